import { readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import {
  MysqlProvider,
  PostgresqlProvider,
  RedisProvider,
  type EngineProvider,
  type InfraTarget,
} from '@dbaas/engines';
import { EngineServer, startMariaDb, targetOf, startPostgres, startRedis } from '../harness';

/** Whether something listens on a local port (the machine's own engine services). */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.once('connect', () => done(true)).once('error', () => done(false));
    socket.setTimeout(1000, () => done(false));
  });
}

/**
 * `securityWarnings` on real servers: the harness's servers protect their tenants (real
 * passwords, Redis default user off, users persisted by CONFIG REWRITE into its config
 * file), so they show nothing; this machine's own services (PostgreSQL trust, MariaDB root
 * without a password, Redis default user without a password and no config file) are
 * exactly what the warnings are for.
 */
describe('engine security warnings (real servers)', () => {
  const providers = {
    postgresql: new PostgresqlProvider(),
    mysql: new MysqlProvider(),
    redis: new RedisProvider(),
  };
  afterAll(async () => {
    await Promise.all(Object.values(providers).map((p) => p.close()));
  });

  describe('the harness servers (real password authentication)', () => {
    const servers: EngineServer[] = [];
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.destroy()));
    });

    it.each([
      ['postgresql', startPostgres],
      ['mysql', startMariaDb],
      ['redis', startRedis],
    ] as const)('%s: no warning', async (engine, start) => {
      const server = await start();
      servers.push(server);
      const provider: EngineProvider = providers[engine];
      await expect(provider.securityWarnings(targetOf(server))).resolves.toEqual([]);
    });

    it('postgresql: reads pg_hba.conf as the admin, and makes no failed login (no lockout, no ban)', async () => {
      const server = await startPostgres();
      servers.push(server);
      await expect(providers.postgresql.securityWarnings(targetOf(server))).resolves.toEqual([]);
      expect(readFileSync(server.logFile!, 'utf8')).not.toMatch(/password authentication failed/);
    });
  });

  describe("this machine's own services (trust, no passwords, no ACL file)", () => {
    const local = (port: number, adminUser: string, adminPassword: string): InfraTarget => ({
      id: 100_000 + port,
      addresses: [`127.0.0.1:${port}`],
      adminUser,
      adminPassword,
    });

    beforeAll(async () => {
      const missing = [];
      for (const port of [5432, 3306, 6379]) if (!(await listening(port))) missing.push(port);
      // These are facts of the development machines (see ARCHITECTURE.md); fail loudly elsewhere.
      if (missing.length) throw new Error(`no local engine on port(s) ${missing.join(', ')}`);
    });

    it('postgresql: the trust lines of pg_hba.conf (a wrong password gets in too)', async () => {
      const warnings = await providers.postgresql.securityWarnings(
        local(5432, 'postgres', 'not-the-password'),
      );
      expect(warnings).toEqual([
        expect.stringMatching(
          /^PostgreSQL trusts connections from 127\.0\.0\.1 \(pg_hba\.conf line \d+\)/,
        ),
      ]);
      expect(warnings.join()).not.toContain('not-the-password');
    });

    it('mysql: the admin root has no password', async () => {
      const warnings = await providers.mysql.securityWarnings(local(3306, 'root', ''));
      expect(warnings).toEqual([expect.stringMatching(/MySQL admin root has no password/)]);
    });

    it('redis: the default user needs no password, and ACL changes are not persisted', async () => {
      const warnings = await providers.redis.securityWarnings(
        local(6379, 'default', 'any-password'),
      );
      expect(warnings).toEqual([
        expect.stringMatching(/default user is enabled without a password/),
        expect.stringMatching(/ACL changes are not persisted/),
      ]);
    });
  });
});
