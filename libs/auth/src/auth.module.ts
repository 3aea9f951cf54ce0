import { TeamEntity, UserEntity } from '@dbaas/persistence';
import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccessPolicy } from './access-policy.service';
import { AuthService } from './auth.service';
import { BasicStrategy } from './basic.strategy';
import { TeamRepository } from './team.repository';
import { TeamsService } from './teams.service';
import { UserRepository } from './user.repository';
import { UsersService } from './users.service';

@Module({
  imports: [
    PassportModule.register({ session: false }),
    TypeOrmModule.forFeature([UserEntity, TeamEntity]),
  ],
  providers: [
    UserRepository,
    TeamRepository,
    AuthService,
    BasicStrategy,
    AccessPolicy,
    UsersService,
    TeamsService,
  ],
  exports: [AccessPolicy, AuthService, UsersService, TeamsService, UserRepository, TeamRepository],
})
export class AuthModule {}
