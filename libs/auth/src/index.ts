export * from './access-policy.service';
export * from './auth.constants';
export * from './auth.module';
export * from './auth.service';
export * from './authenticated-user';
export * from './authenticated.decorator';
export * from './teams.service';
export * from './users.service';
