export * from './database-locks.service';
export * from './keyed-mutex';
export * from './operation-runner.service';
export * from './operations.module';
export * from './task-history.service';
export * from './job-scheduler';
export * from './operation-origin';
export * from './process-identity.service';
