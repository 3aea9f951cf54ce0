import { AuthModule } from '@dbaas/auth';
import { TaskEntity } from '@dbaas/persistence';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AdvisoryLocks } from './advisory-locks';
import { LockStrategy } from './lock-strategy';
import { OperationRunner } from './operation-runner.service';
import { PROCESS_IDENTITY_PROVIDER, ProcessIdentity } from './process-identity.service';
import { TaskHistory } from './task-history.service';
import { TaskRepository } from './task.repository';

/** The task table, the locks and the runner: the frame every engine operation runs in. */
@Module({
  imports: [AuthModule, TypeOrmModule.forFeature([TaskEntity])],
  providers: [
    PROCESS_IDENTITY_PROVIDER,
    { provide: LockStrategy, useClass: AdvisoryLocks },
    TaskRepository,
    TaskHistory,
    OperationRunner,
  ],
  exports: [ProcessIdentity, LockStrategy, TaskHistory, OperationRunner],
})
export class OperationsModule {}
