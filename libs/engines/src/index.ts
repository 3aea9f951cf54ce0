export * from './engine-provider';
export * from './base-engine-provider';
export { ENGINE_TYPES, ENGINE_PROVIDER_CLASSES } from './engine-list';
export * from './engine-registry';
export * from './engines.constants';
export * from './engines.module';
export * from './infra-access.service';
export * from './infra-probe.service';
export { COMMAND_TIMEOUT_MS, CONNECT_TIMEOUT_MS, EngineCommandError } from './common/engine-errors';
export { BackupCorruptError, BackupToolError } from './common/dump-tool';
export type { DumpTool, RestoreOptions } from './common/dump-tool';
export { ByteQueue } from './common/byte-queue';
export { MongoDumpTool } from './mongodb/mongo.dump-tool';
export { MariaDbDumpTool } from './mysql/mariadb.dump-tool';
export { PostgresDumpTool } from './postgresql/postgres.dump-tool';
export { DEBIAN_POSTGRESQL_ROOT, postgresClientDir } from './postgresql/postgres-client-dir';
export { RedisDumpTool } from './redis/redis.dump-tool';
export { ConnectionFailed } from './common/tcp-reach';
export type { ConnectFailure } from './common/tcp-reach';
export { MongodbProvider, connectMongoClient } from './mongodb/mongodb.provider';
export type { MongoClientFactory, MongoClientLike, MongoDbLike } from './mongodb/mongodb.provider';
export { MysqlProvider } from './mysql/mysql.provider';
export { PostgresqlProvider } from './postgresql/postgresql.provider';
export { RedisProvider } from './redis/redis.provider';
export { COMMAND_REVIEW, COMMAND_RULES } from './redis/redis-acl';
export {
  engineLimitProblem,
  EngineLimitRulesRegistration,
} from './engine-limit-rules.registration';
