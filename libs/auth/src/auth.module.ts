import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { AccessPolicy } from './access-policy.service';
import { AuthService } from './auth.service';
import { BasicStrategy } from './basic.strategy';
import { TeamsService } from './teams.service';
import { UsersService } from './users.service';

@Module({
  imports: [PassportModule.register({ session: false })],
  providers: [AuthService, BasicStrategy, AccessPolicy, UsersService, TeamsService],
  exports: [AccessPolicy, AuthService, UsersService, TeamsService],
})
export class AuthModule {}
