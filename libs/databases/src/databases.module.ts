import { AuthModule } from '@dbaas/auth';
import { CatalogModule } from '@dbaas/catalog';
import { CredentialsModule } from '@dbaas/credentials';
import { EnginesModule } from '@dbaas/engines';
import { Module } from '@nestjs/common';
import { DatabasesService } from './databases.service';

@Module({
  imports: [AuthModule, CatalogModule, EnginesModule, CredentialsModule],
  providers: [DatabasesService],
  exports: [DatabasesService],
})
export class DatabasesModule {}
