import { AuthModule } from '@dbaas/auth';
import { EnginesModule } from '@dbaas/engines';
import { Module } from '@nestjs/common';
import { CredentialsService } from './credentials.service';

@Module({
  imports: [AuthModule, EnginesModule],
  providers: [CredentialsService],
  exports: [CredentialsService],
})
export class CredentialsModule {}
