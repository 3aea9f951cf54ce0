import { AuthModule } from '@dbaas/auth';
import { EnginesModule } from '@dbaas/engines';
import { OperationsModule } from '@dbaas/operations';
import { CredentialEntity } from '@dbaas/persistence';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CredentialRepository } from './credential.repository';
import { CredentialsService } from './credentials.service';

/** Credentials: the `credential` table (CredentialRepository) and the users on the engines. */
@Module({
  imports: [
    AuthModule,
    EnginesModule,
    OperationsModule,
    TypeOrmModule.forFeature([CredentialEntity]),
  ],
  providers: [CredentialRepository, CredentialsService],
  exports: [CredentialsService],
})
export class CredentialsModule {}
