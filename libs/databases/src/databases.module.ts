import { AuthModule } from '@dbaas/auth';
import { CatalogModule } from '@dbaas/catalog';
import { CredentialsModule } from '@dbaas/credentials';
import { EnginesModule } from '@dbaas/engines';
import { OperationsModule } from '@dbaas/operations';
import { Module } from '@nestjs/common';
import { DatabasesService } from './databases.service';
import { DriftRepair } from './drift-repair.service';
import { LifecycleReconciler } from './lifecycle-reconciler.service';
import { ProjectsService } from './projects.service';

@Module({
  imports: [AuthModule, CatalogModule, EnginesModule, OperationsModule, CredentialsModule],
  providers: [DatabasesService, LifecycleReconciler, ProjectsService, DriftRepair],
  exports: [DatabasesService, LifecycleReconciler, ProjectsService, DriftRepair],
})
export class DatabasesModule {}
