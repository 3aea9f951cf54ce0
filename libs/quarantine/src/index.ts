export * from './background-jobs';
export * from './quarantine.module';
export * from './quarantine.service';
