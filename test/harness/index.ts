export * from './engine-server';
export * from './free-port';
export * from './mariadb.harness';
export * from './postgres.harness';
export * from './redis.harness';
export * from './s3.harness';
export * from './dump-test-helpers';
