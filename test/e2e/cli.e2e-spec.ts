import { CLI_MAIN, runNode } from './support/api-process';
import { dated } from './support/dates';
import { startStack, TestStack } from './support/test-stack';

/**
 * The operator CLI as an operator runs it: the built `dbaas` bin against the same store and
 * engines as a running API (PostgreSQL, MariaDB and Redis for real; the sample MongoDB
 * infra points at a closed port, so it is the unreachable one).
 */
describe('operator CLI (e2e)', () => {
  let stack: TestStack;
  const cli = (args: string[], env: Record<string, string> = {}) =>
    runNode(CLI_MAIN, args, { ...stack.api.env, ...env });

  beforeAll(async () => {
    stack = await startStack({ engines: true });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  describe('help and usage', () => {
    it('lists every command on help, with the exit codes', async () => {
      const help = await cli(['help']);
      expect(help.code).toBe(0);
      for (const command of [
        'migrate',
        'reset-data',
        'purge-quarantine',
        'create-user',
        'infra',
        'databases',
      ])
        expect(help.stdout).toContain(command);
      expect(help.stdout).toMatch(/Exit codes: 0 done, 1 failed.*\n?.*2 bad usage/);
    });

    it.each([
      [['migrate'], 'migrations'],
      [['reset-data'], 'sample data'],
      [['purge-quarantine'], 'QUARANTINE_RETENTION_DAYS'],
      [['create-user'], 'DBAAS_NEW_USER_PASSWORD'],
      [['infra', 'check'], 'Exits 1 if any infra is unreachable'],
      [['databases', 'list'], 'quarantine_dt'],
    ])('has help for %j, as `help <command>` and as --help', async (command, text) => {
      const viaHelp = await cli(['help', ...command]);
      const viaFlag = await cli([...command, '--help']);
      expect(viaHelp.code).toBe(0);
      expect(viaHelp.stdout).toContain(`Usage: dbaas ${command.join(' ')}`);
      expect(viaHelp.stdout).toContain(text);
      expect(viaFlag).toEqual(viaHelp);
    });

    it.each([
      [[]],
      [['bogus']],
      [['migrate', 'extra']],
      [['infra']],
      [['infra', 'ping']],
      [['databases', 'list', '--colour']],
      [['create-user', 'alice']],
      [['create-user', 'alice', '--role', 'root']],
      [['create-user', 'alice', '--role', 'regular', '--team', 'x']],
    ])('exits 2 with a message on stderr for bad usage: %j', async (args) => {
      const answer = await cli(args);
      expect(answer.code).toBe(2);
      expect(answer.stderr).toMatch(/\S/);
    });

    it('exits 1 with one line naming the variable on bad configuration', async () => {
      const answer = await cli(['migrate'], { DBAAS_SECRET_KEY: 'short' });
      expect(answer.code).toBe(1);
      expect(answer.stderr).toMatch(/dbaas: invalid configuration: .*DBAAS_SECRET_KEY/);
    });
  });

  it('migrate applies (already applied) migrations and exits 0', async () => {
    const answer = await cli(['migrate']);
    expect(answer).toMatchObject({ code: 0, stdout: 'Migrations applied.\n' });
  });

  describe('infra check', () => {
    it('pings every infra, prints the table and exits 1 because MongoDB is unreachable', async () => {
      const answer = await cli(['infra', 'check']);
      expect(answer.code).toBe(1);
      const [header, ...rows] = answer.stdout.trimEnd().split('\n');
      expect(header.split(/\s{2,}/)).toEqual([
        'ID',
        'NAME',
        'ENGINE',
        'ADDRESSES',
        'REACHABLE',
        'VERSION/ERROR',
      ]);
      expect(rows).toHaveLength(4);
      const byEngine = Object.fromEntries(rows.map((row) => [row.split(/\s{2,}/)[2], row]));
      expect(byEngine['postgresql 15']).toMatch(new RegExp(`${stack.pg.address}\\s+yes\\s+15\\.`));
      expect(Object.values(byEngine).filter((row) => /\syes\s/.test(row))).toHaveLength(3);
      expect(rows.find((row) => row.includes('mongodb'))).toMatch(/127\.0\.0\.1:9\s+no\s+\S/);
      expect(answer.stderr).toMatch(/1 of 4 infra\(s\) unreachable: \S*mongo/);
    });

    it('prints the same as JSON, and exits 0 once every remaining infra answers', async () => {
      const json = await cli(['infra', 'check', '--json']);
      expect(json.code).toBe(1);
      const checks = JSON.parse(json.stdout) as Array<{
        id: number;
        engine: string;
        reachable: boolean;
        version: string | null;
        error: string | null;
      }>;
      expect(checks.filter((c) => c.reachable)).toHaveLength(3);
      const [mongo, ...down] = checks.filter((c) => !c.reachable);
      expect(down).toEqual([]);
      expect(mongo).toMatchObject({ engine: expect.stringMatching(/^mongodb/), version: null });
      expect(mongo.error).toEqual(expect.any(String));
      expect((await stack.http.delete(`/api/infra/${mongo.id}/`)).status).toBe(204);

      const answer = await cli(['infra', 'check']);
      expect(answer.code).toBe(0);
      expect(answer.stdout.trimEnd().split('\n')).toHaveLength(4);
      expect(answer.stdout).not.toMatch(/\sno\s/);
    });
  });

  describe('databases list and purge-quarantine', () => {
    it('lists every database with engine, environment, team, status and quarantine date', async () => {
      const answer = await cli(['databases', 'list']);
      expect(answer.code).toBe(0);
      const [header, ...rows] = answer.stdout.trimEnd().split('\n');
      expect(header.split(/\s{2,}/)).toEqual([
        'ID',
        'NAME',
        'ENGINE',
        'ENVIRONMENT',
        'TEAM',
        'STATUS',
        'QUARANTINE_DT',
      ]);
      const cells = rows.map((row) => row.split(/\s{2,}/));
      expect(cells).toEqual(
        expect.arrayContaining([
          ['1', 'my_first_database', 'postgresql', 'dev', 'dbaas', 'ready', '-'],
          [expect.any(String), 'sample_mysql', 'mysql', 'dev', 'dbaas', 'ready', '-'],
          [expect.any(String), 'sample_redis', 'redis', 'dev', 'dbaas', 'ready', '-'],
          [expect.any(String), 'team1_database', 'postgresql', 'dev', 'team1', 'ready', '-'],
        ]),
      );
    });

    it('shows a quarantined database with its date, and purges it with progress on stderr', async () => {
      const created = await stack.http.post('/api/database/', {
        name: 'cli purge me',
        plan: 1,
        environment: 1,
      });
      expect(created.status).toBe(201);
      const [deleted, days] = await dated(() =>
        stack.http.delete(`/api/database/${created.body.id}/`),
      );
      expect(deleted.status).toBe(204);
      const day = (await stack.http.get(`/api/database/${created.body.id}/`)).body.quarantine_dt;
      expect(days).toContain(day);

      const listed = await cli(['databases', 'list', '--quarantined', '--json']);
      expect(listed.code).toBe(0);
      expect(JSON.parse(listed.stdout)).toEqual([
        {
          id: created.body.id,
          name: 'cli_purge_me',
          engine: 'postgresql',
          environment: 'dev',
          team: 'dbaas',
          status: 'quarantined',
          quarantine_dt: day,
        },
      ]);

      const kept = await cli(['purge-quarantine']);
      expect(kept).toMatchObject({ code: 0, stdout: 'Purged 0 database(s); 0 failed.\n' });

      const purged = await cli(['purge-quarantine'], { QUARANTINE_RETENTION_DAYS: '0' });
      expect(purged.code).toBe(0);
      expect(purged.stdout).toBe('Purged 1 database(s); 0 failed.\n');
      expect(purged.stderr).toContain('[1/1] cli_purge_me');
      const after = await cli(['databases', 'list', '--quarantined']);
      expect(after).toMatchObject({ code: 0, stdout: 'No databases.\n' });
    });
  });

  describe('create-user', () => {
    it('creates a user who can log in to the API with the given password', async () => {
      const answer = await cli(['create-user', 'cli_alice', '--role', 'regular', '--team', '2'], {
        DBAAS_NEW_USER_PASSWORD: 'alice-pw-1',
      });
      expect(answer.code).toBe(0);
      expect(answer.stdout).toMatch(/^Created user cli_alice \(id \d+, regular\)\n$/);
      const me = await stack.http.as('cli_alice:alice-pw-1').get('/api/database/');
      expect(me.status).toBe(200);
      expect(me.body.database.map((db: { name: string }) => db.name)).toEqual(['team1_database']);
    });

    it('exits 1 when the store refuses the user (name taken)', async () => {
      const answer = await cli(['create-user', 'admin', '--role', 'dba'], {
        DBAAS_NEW_USER_PASSWORD: 'another-pw',
      });
      expect(answer.code).toBe(1);
      expect(answer.stderr).toMatch(/^dbaas: .+/m);
    });
  });
});
