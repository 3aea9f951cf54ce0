import { AuthModule } from '@dbaas/auth';
import { EnginesModule } from '@dbaas/engines';
import { OperationsModule } from '@dbaas/operations';
import { Module } from '@nestjs/common';
import { CredentialsService } from './credentials.service';

@Module({
  imports: [AuthModule, EnginesModule, OperationsModule],
  providers: [CredentialsService],
  exports: [CredentialsService],
})
export class CredentialsModule {}
