import { AuthModule } from '@dbaas/auth';
import { Module } from '@nestjs/common';
import { DatabaseLocks } from './database-locks.service';
import { OperationRunner } from './operation-runner.service';
import { PROCESS_IDENTITY_PROVIDER, ProcessIdentity } from './process-identity.service';
import { TaskHistory } from './task-history.service';

/** Task history and per-database locks: the frame every engine operation runs in. */
@Module({
  imports: [AuthModule],
  providers: [PROCESS_IDENTITY_PROVIDER, DatabaseLocks, TaskHistory, OperationRunner],
  exports: [ProcessIdentity, DatabaseLocks, TaskHistory, OperationRunner],
})
export class OperationsModule {}
