export * from './purge.scheduler';
export * from './quarantine.module';
export * from './quarantine.service';
