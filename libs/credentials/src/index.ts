export * from './credential-states';
export * from './credential.repository';
export * from './credentials.module';
export * from './credentials.service';
export * from './user-names';
