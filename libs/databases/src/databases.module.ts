import { AuthModule } from '@dbaas/auth';
import { CatalogModule } from '@dbaas/catalog';
import { CredentialsModule } from '@dbaas/credentials';
import { EnginesModule } from '@dbaas/engines';
import { OperationsModule } from '@dbaas/operations';
import { DatabaseEntity, ProjectEntity } from '@dbaas/persistence';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatabaseRepository } from './database.repository';
import { DatabasesService } from './databases.service';
import { DriftRepair } from './drift-repair.service';
import { LifecycleReconciler } from './lifecycle-reconciler.service';
import { ProjectRepository } from './project.repository';
import { ProjectsService } from './projects.service';
import { RecoveryHooks } from './recovery-hooks';
import { SizeLimitCheck } from './size-limit.service';

/** Databases and projects: the `database` and `project` tables and their lifecycle. */
@Module({
  imports: [
    AuthModule,
    CatalogModule,
    EnginesModule,
    OperationsModule,
    CredentialsModule,
    TypeOrmModule.forFeature([DatabaseEntity, ProjectEntity]),
  ],
  providers: [
    DatabaseRepository,
    ProjectRepository,
    DatabasesService,
    LifecycleReconciler,
    ProjectsService,
    DriftRepair,
    RecoveryHooks,
    SizeLimitCheck,
  ],
  exports: [
    DatabasesService,
    LifecycleReconciler,
    ProjectsService,
    DriftRepair,
    RecoveryHooks,
    SizeLimitCheck,
  ],
})
export class DatabasesModule {}
