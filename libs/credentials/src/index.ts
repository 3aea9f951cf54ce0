export * from './credentials.module';
export * from './credentials.service';
export * from './user-names';
