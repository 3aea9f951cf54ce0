/**
 * The three engines of a bench stack: each with the sample plan the API places on it, its
 * provider (the provider's own file: tsx emits no decorator metadata for the lib's index)
 * and its admin target. Shared by bench/run.ts and bench/backups.ts.
 */
import { EngineProvider, InfraTarget } from '../libs/engines/src/engine-provider';
import { MysqlProvider } from '../libs/engines/src/mysql/mysql.provider';
import { PostgresqlProvider } from '../libs/engines/src/postgresql/postgresql.provider';
import { RedisProvider } from '../libs/engines/src/redis/redis.provider';
import { TestStack } from '../test/e2e/support/test-stack';
import { EngineServer } from '../test/harness';

export interface BenchEngine {
  label: string;
  type: 'postgresql' | 'mysql' | 'redis';
  plan: number;
  target: InfraTarget;
  provider: EngineProvider;
  server: EngineServer;
}

/** The three engines, each with the sample plan the API places on it and its admin target. */
export async function benchEngines(stack: TestStack): Promise<BenchEngine[]> {
  const servers = [
    {
      label: 'PostgreSQL',
      type: 'postgresql' as const,
      provider: new PostgresqlProvider(),
      server: stack.pg,
    },
    {
      label: 'MariaDB',
      type: 'mysql' as const,
      provider: new MysqlProvider(),
      server: stack.mariadb!,
    },
    { label: 'Redis', type: 'redis' as const, provider: new RedisProvider(), server: stack.redis! },
  ];
  return Promise.all(
    servers.map(async (engine, index) => ({
      ...engine,
      plan: await planOf(stack, engine.type),
      target: {
        id: 9000 + index,
        addresses: [engine.server.address],
        adminUser: engine.server.adminUser,
        adminPassword: engine.server.adminPassword,
      },
    })),
  );
}

/** The first plan of an engine type in the sample data. */
export async function planOf(stack: TestStack, engineType: string): Promise<number> {
  const rows = await stack.metadata<{ id: number }>(
    `SELECT p.id FROM plan p JOIN engine e ON e.id = p.engine_id
       JOIN engine_type et ON et.id = e.engine_type_id WHERE et.name = $1 ORDER BY p.id LIMIT 1`,
    [engineType],
  );
  if (!rows[0]) throw new Error(`no ${engineType} plan in the sample data`);
  return rows[0].id;
}
