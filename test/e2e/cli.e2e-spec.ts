import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort, startRedis } from '../harness';
import { apiLoginEnv, CLI_MAIN, CommandResult, runNode } from './support/api-process';
import { dated } from './support/dates';
import { startStack, TestStack } from './support/test-stack';

/**
 * The `dbaas` CLI as its users run it: the built bin, as an HTTP client of a running API
 * (real PostgreSQL, MariaDB and Redis; the sample MongoDB infra points at a closed port, so
 * it is the unreachable one). API commands get no store configuration at all, only a login
 * (saved by `dbaas login` or DBAAS_URL/USER/PASSWORD), so they can only work over HTTP.
 * The store-level commands get the API's environment, as an operator on its host would.
 */
describe('dbaas CLI (e2e)', () => {
  let stack: TestStack;
  let configHome: string;
  /** An API command: only a config folder of its own and what the test adds. */
  const cli = (args: string[], env: Record<string, string> = {}, input = '') =>
    runNode(CLI_MAIN, args, { XDG_CONFIG_HOME: configHome, ...env }, 60_000, input);
  const asAdmin = () => apiLoginEnv(stack.api.baseUrl);
  const asUser = () => apiLoginEnv(stack.api.baseUrl, 'user', '123456');
  /** A store-level command, with the API's own environment. */
  const storeCli = (args: string[], env: Record<string, string> = {}) =>
    runNode(CLI_MAIN, args, { ...stack.api.env, XDG_CONFIG_HOME: configHome, ...env });
  const configFile = () => join(configHome, 'dbaas', 'config.json');
  const table = (answer: CommandResult) =>
    answer.stdout
      .trimEnd()
      .split('\n')
      .map((row) => row.split(/\s{2,}/));
  /** `field  value` lines of a `show` as an object. */
  const detail = (answer: CommandResult) =>
    Object.fromEntries(
      answer.stdout
        .trimEnd()
        .split('\n')
        .map((line) => {
          const [, key, value] = /^(\S+)\s+(.*)$/.exec(line)!;
          return [key, value];
        }),
    );

  beforeAll(async () => {
    stack = await startStack({ engines: true });
    configHome = await mkdtemp(join(tmpdir(), 'dbaas-cli-config-'));
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    if (configHome) await rm(configHome, { recursive: true, force: true });
  });

  describe('help and usage', () => {
    it('lists every command on help, with every exit code', async () => {
      const help = await cli(['help']);
      expect(help.code).toBe(0);
      for (const command of [
        'login',
        'logout',
        'databases',
        'credentials',
        'tasks',
        'backup',
        'backups',
        'restore',
        'clone',
        'create-user',
        'infra',
        'migrate',
        'reset-data',
        'purge-quarantine',
        'create-admin',
      ])
        expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
      for (const code of [
        '0  done',
        '1  failed',
        '2  bad usage',
        '3  not logged in',
        '4  not found',
        '5  refused',
      ])
        expect(help.stdout).toContain(code);
    });

    it.each([
      [['login'], 'XDG_CONFIG_HOME'],
      [['databases', 'list'], 'quarantine_dt'],
      [['databases', 'create'], '--environment'],
      [['credentials', 'reset-password'], 'old one stops working'],
      [['tasks', 'wait'], 'exit 1 if it ended in error'],
      [['infra', 'check'], 'Exits 1 if any infra is unreachable'],
      [['create-user'], 'DBAAS_NEW_USER_PASSWORD'],
      [['migrate'], 'migrations'],
      [['reset-data'], 'sample data'],
      [['purge-quarantine'], 'QUARANTINE_RETENTION_DAYS'],
      [['create-admin'], 'DBAAS_NEW_USER_PASSWORD'],
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
      [['databases', 'list', '--colour']],
      [['databases', 'list', '--output', 'yaml']],
      [['databases', 'create', 'x', '--plan', '1']],
      [['credentials', 'show', 'abc']],
      [['tasks', 'list', '--limit', '500']],
      [['create-user', 'alice']],
      [['create-user', 'alice', '--role', 'root']],
      [['create-user', 'alice', '--role', 'regular', '--team', 'x']],
    ])('exits 2 with a message on stderr for bad usage: %j', async (args) => {
      const answer = await cli(args, asAdmin());
      expect(answer.code).toBe(2);
      expect(answer.stderr).toMatch(/\S/);
    });
  });

  describe('login', () => {
    it('exits 3 for every API command while not logged in', async () => {
      await rm(configFile(), { force: true });
      for (const command of [
        ['databases', 'list'],
        ['credentials', 'list'],
        ['tasks', 'list'],
        ['infra', 'check'],
      ]) {
        const answer = await cli(command);
        expect(answer.code).toBe(3);
        expect(answer.stderr).toBe(
          'dbaas: not logged in: run "dbaas login", or set DBAAS_URL, DBAAS_USER and DBAAS_PASSWORD\n',
        );
      }
    });

    it('refuses a wrong password with exit 3, the API title, and saves nothing', async () => {
      const answer = await cli(
        ['login', '--url', stack.api.baseUrl, '--user', 'admin', '--password-stdin'],
        {},
        'wrong-pw-7f3a\n',
      );
      expect(answer.code).toBe(3);
      expect(answer.stderr).toMatch(/^dbaas: Unauthorized: /);
      expect(answer.stderr + answer.stdout).not.toContain('wrong-pw-7f3a');
      await expect(stat(configFile())).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('exits 1 naming the address when the API cannot be reached, and saves nothing', async () => {
      const closed = `http://127.0.0.1:${await freePort()}`;
      const answer = await cli(['login', '--url', closed, '--user', 'admin'], {
        DBAAS_PASSWORD: 'unreachable-pw-1',
      });
      expect(answer.code).toBe(1);
      expect(answer.stderr).toMatch(
        new RegExp(`^dbaas: cannot reach the API at ${closed}: .*ECONNREFUSED`),
      );
      expect(answer.stderr).not.toContain('unreachable-pw-1');
      await expect(stat(configFile())).rejects.toMatchObject({ code: 'ENOENT' });

      const listed = await cli(['databases', 'list'], { ...asAdmin(), DBAAS_URL: closed });
      expect(listed.code).toBe(1);
      expect(listed.stderr).toContain(`cannot reach the API at ${closed}`);
    });

    it('exits 2 for a URL that is not http(s)', async () => {
      const answer = await cli(['login', '--url', 'ftp://x', '--user', 'admin'], {
        DBAAS_PASSWORD: '123456',
      });
      expect(answer.code).toBe(2);
      expect(answer.stderr).toContain('must start with http:// or https://');
    });

    it('saves URL, user and password 0600 in a 0700 folder; logout removes them', async () => {
      // An existing folder with a loose mode is tightened.
      await mkdir(join(configHome, 'dbaas'), { recursive: true, mode: 0o755 });
      const answer = await cli(
        ['login', '--url', `${stack.api.baseUrl}/`, '--user', 'admin', '--password-stdin'],
        {},
        '123456\n',
      );
      expect(answer).toMatchObject({ code: 0, stderr: '' });
      expect(answer.stdout).toBe(
        `Logged in to ${stack.api.baseUrl} as admin. Saved in ${configFile()} (mode 0600).\n`,
      );
      expect((await stat(configFile())).mode & 0o777).toBe(0o600);
      expect((await stat(join(configHome, 'dbaas'))).mode & 0o777).toBe(0o700);
      expect(JSON.parse(await readFile(configFile(), 'utf8'))).toEqual({
        url: stack.api.baseUrl,
        user: 'admin',
        password: '123456',
      });

      // Logged in: no environment needed, and the environment wins over the file.
      const listed = await cli(['databases', 'list', '--output', 'json']);
      expect(listed.code).toBe(0);
      expect(JSON.parse(listed.stdout).length).toBeGreaterThanOrEqual(4);
      const asUserByEnv = await cli(['databases', 'list', '-o', 'json'], {
        DBAAS_USER: 'user',
        DBAAS_PASSWORD: '123456',
      });
      expect(JSON.parse(asUserByEnv.stdout).map((db: { name: string }) => db.name)).toEqual([
        'team1_database',
      ]);
      const wrongByEnv = await cli(['tasks', 'list'], { DBAAS_PASSWORD: 'env-wrong-pw' });
      expect(wrongByEnv.code).toBe(3);
      expect(wrongByEnv.stderr).not.toContain('env-wrong-pw');

      const out = await cli(['logout']);
      expect(out).toMatchObject({ code: 0, stdout: `Logged out: removed ${configFile()}.\n` });
      await expect(stat(configFile())).rejects.toMatchObject({ code: 'ENOENT' });
      expect((await cli(['databases', 'list'])).code).toBe(3);
      expect(await cli(['logout'])).toMatchObject({
        code: 0,
        stdout: `Not logged in: no ${configFile()}.\n`,
      });
    });

    it('takes the password from DBAAS_PASSWORD, and works from the environment alone', async () => {
      const answer = await cli(['login', '--url', stack.api.baseUrl, '--user', 'user'], {
        DBAAS_PASSWORD: '123456',
      });
      expect(answer.code).toBe(0);
      expect(JSON.parse(await readFile(configFile(), 'utf8')).user).toBe('user');
      expect((await cli(['logout'])).code).toBe(0);

      const byEnv = await cli(['tasks', 'list'], asUser());
      expect(byEnv.code).toBe(0);
    });
  });

  describe('databases', () => {
    it('lists every database with engine, environment, team, status and quarantine date', async () => {
      const answer = await cli(['databases', 'list'], asAdmin());
      expect(answer.code).toBe(0);
      const [header, ...rows] = table(answer);
      expect(header).toEqual([
        'ID',
        'NAME',
        'ENGINE',
        'ENVIRONMENT',
        'TEAM',
        'STATUS',
        'QUARANTINE_DT',
        'PROTECTED',
        'TAGS',
      ]);
      expect(rows).toEqual(
        expect.arrayContaining([
          ['1', 'my_first_database', 'postgresql 15', 'dev', 'dbaas', 'ready', '-', '-', '-'],
          [
            expect.any(String),
            'sample_mysql',
            expect.stringMatching(/^mysql /),
            'dev',
            'dbaas',
            'ready',
            '-',
            '-',
            '-',
          ],
          [
            expect.any(String),
            'sample_redis',
            expect.stringMatching(/^redis /),
            'dev',
            'dbaas',
            'ready',
            '-',
            '-',
            '-',
          ],
          [
            expect.any(String),
            'team1_database',
            'postgresql 15',
            'dev',
            'team1',
            'ready',
            '-',
            '-',
            '-',
          ],
        ]),
      );
      const json = await cli(['databases', 'list', '--output', 'json'], asAdmin());
      const databases = JSON.parse(json.stdout) as Array<{
        id: number;
        name: string;
        endpoint: string;
      }>;
      expect(databases.map((db) => db.name)).toEqual(rows.map((row) => row[1]));
      expect(databases[0]).toMatchObject({
        id: 1,
        endpoint: expect.stringContaining('postgresql://'),
      });
    });

    it('creates, shows (by id and name) and quarantines then deletes a database', async () => {
      const created = await cli(
        [
          'databases',
          'create',
          'cli orders',
          '--plan',
          '1',
          '--environment',
          '1',
          '--description',
          'from the CLI',
        ],
        asAdmin(),
      );
      expect(created.code).toBe(0);
      const shown = detail(created);
      expect(shown).toMatchObject({
        name: 'cli_orders',
        status: 'ready',
        engine: 'postgresql 15',
        environment: 'dev',
        team: 'dbaas',
        description: 'from the CLI',
        credentials: 'u_cli_orders',
      });
      expect(shown.endpoint).toContain(`${stack.pg.address}/cli_orders`);
      expect(created.stderr).toMatch(/^Its password: dbaas credentials show \d+\n$/);

      const byName = await cli(['databases', 'show', 'cli_orders', '--json'], asAdmin());
      const db = JSON.parse(byName.stdout);
      expect(db).toMatchObject({ id: Number(shown.id), name: 'cli_orders', status: 'ready' });
      const byId = await cli(['databases', 'show', shown.id], asAdmin());
      expect(byId.code).toBe(0);
      // The same fields; only the measured size may have been filled in since.
      expect({ ...detail(byId), used_size_in_bytes: '' }).toEqual({
        ...shown,
        used_size_in_bytes: '',
      });
      // It exists for real on PostgreSQL.
      const admin = new Client({ connectionString: stack.pg.url });
      await admin.connect();
      const exists = await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'cli_orders'`);
      await admin.end();
      expect(exists.rows).toHaveLength(1);

      const quarantined = await cli(['databases', 'delete', 'cli_orders'], asAdmin());
      expect(quarantined.code).toBe(0);
      expect(quarantined.stdout).toContain(`Quarantined cli_orders (id ${shown.id})`);
      const refused = await cli(['databases', 'delete', shown.id], asAdmin());
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('add --yes');
      const deleted = await cli(
        ['databases', 'delete', shown.id, '--yes', '-o', 'json'],
        asAdmin(),
      );
      expect(deleted.code).toBe(0);
      expect(JSON.parse(deleted.stdout)).toEqual({
        id: Number(shown.id),
        name: 'cli_orders',
        outcome: 'deleted',
      });
      const gone = await cli(['databases', 'show', shown.id], asAdmin());
      expect(gone.code).toBe(4);
      expect(gone.stderr).toMatch(/^dbaas: Not Found: /);
    });

    it('creates a protected, tagged database, filters by tags, and lifts the protection to delete it', async () => {
      const created = await cli(
        [
          'databases',
          'create',
          'cli_tagged',
          '--plan',
          '1',
          '--environment',
          '1',
          '--protected',
          '--tag',
          'shop',
          '--tag',
          'env:prod',
        ],
        asAdmin(),
      );
      expect(created.code).toBe(0);
      expect(detail(created)).toMatchObject({ is_protected: 'true', tags: 'shop,env:prod' });

      const both = await cli(
        ['databases', 'list', '--tag', 'shop', '--tag', 'env:prod', '-o', 'json'],
        asAdmin(),
      );
      expect((JSON.parse(both.stdout) as { name: string }[]).map((db) => db.name)).toEqual([
        'cli_tagged',
      ]);
      const none = await cli(['databases', 'list', '--tag', 'shop', '--tag', 'nope'], asAdmin());
      expect(none.stdout).toContain('No databases.');

      const refused = await cli(['databases', 'delete', 'cli_tagged'], asAdmin());
      expect(refused.code).toBe(5);
      expect(refused.stderr).toMatch(/protected from deletion/);
      const updated = await cli(
        ['databases', 'update', 'cli_tagged', '--unprotect', '--tag', 'archive'],
        asAdmin(),
      );
      expect(updated.code).toBe(0);
      expect(detail(updated)).toMatchObject({ is_protected: 'false', tags: 'archive' });
      expect((await cli(['databases', 'update', 'cli_tagged'], asAdmin())).code).toBe(2);
      expect((await cli(['databases', 'delete', 'cli_tagged'], asAdmin())).code).toBe(0);
      // Gone for good, so that the quarantine list below sees only its own database.
      expect((await cli(['databases', 'delete', 'cli_tagged', '--yes'], asAdmin())).code).toBe(0);
    });

    it('changes the plan in place, and waits for a move to another server with a progress line', async () => {
      // Redis (sample engine and plan 4, infra 4): a second plan served by infra 4 too (in
      // place), and a third served only by an infra on a second Redis server (a move).
      const http = stack.http;
      const serverB = await startRedis();
      const added: { plans: number[]; infra?: number } = { plans: [] };
      try {
        const plan = async (name: string) => {
          const created = await http.post('/api/plan/', { name, engine: 4, environments: [1] });
          expect(created.status).toBe(201);
          added.plans.push(created.body.id as number);
          return String(created.body.id);
        };
        const sameServer = await plan('cli-redis-same');
        const otherServer = await plan('cli-redis-moved');
        expect((await http.patch('/api/infra/4/', { plans: [4, Number(sameServer)] })).status).toBe(
          200,
        );
        const infraB = await http.post('/api/infra/', {
          name: 'cli-redis-b',
          engine: 4,
          plan: Number(otherServer),
          environment: 1,
          addresses: [serverB.address],
          admin_user: serverB.adminUser,
          admin_password: serverB.adminPassword,
          capacity: 10,
        });
        expect(infraB.status).toBe(201);
        added.infra = infraB.body.id as number;
        const created = await cli(
          ['databases', 'create', 'cli_plans', '--plan', '4', '--environment', '1'],
          asAdmin(),
        );
        expect(created.code).toBe(0);

        const inPlace = await cli(
          ['databases', 'update', 'cli_plans', '--plan', sameServer],
          asAdmin(),
        );
        expect(inPlace.code).toBe(0);
        expect(detail(inPlace)).toMatchObject({ plan: 'cli-redis-same', status: 'ready' });
        expect(inPlace.stderr).toBe('');

        const moved = await cli(
          ['databases', 'update', 'cli_plans', '--plan', otherServer],
          asAdmin(),
        );
        expect(moved.code).toBe(0);
        expect(moved.stderr).toMatch(/^task \d+: /m); // the progress line of the move
        expect(detail(moved)).toMatchObject({ plan: 'cli-redis-moved', status: 'ready' });
        expect(detail(moved).endpoint).toContain(`@${serverB.address}/`);

        const unknown = await cli(['databases', 'update', 'cli_plans', '--plan', '999'], asAdmin());
        expect(unknown.code).toBe(5);
        expect(unknown.stderr).toMatch(/plan: no plan with id 999/);

        for (const yes of [[], ['--yes']])
          expect((await cli(['databases', 'delete', 'cli_plans', ...yes], asAdmin())).code).toBe(0);
      } finally {
        // Back to the sample catalog (the tests below list the infras), even after a failure
        // above: the database first (plans and infras in use cannot go), then the rest.
        const left = (await http.get('/api/database/?name=cli_plans')).body.database as
          { id: number }[] | undefined;
        for (const { id } of left ?? []) {
          await http.delete(`/api/database/${id}/`);
          await http.delete(`/api/database/${id}/?skip_backup=true`);
        }
        const cleanup = [
          ...(added.infra ? [await http.delete(`/api/infra/${added.infra}/`)] : []),
          await http.patch('/api/infra/4/', { plans: [4] }),
        ];
        for (const id of added.plans) cleanup.push(await http.delete(`/api/plan/${id}/`));
        await serverB.destroy();
        for (const answer of cleanup) expect([200, 204]).toContain(answer.status);
      }
    }, 180_000);

    it('exits 5 with the API title and field messages on a conflict or invalid input', async () => {
      const taken = await cli(
        ['databases', 'create', 'my_first_database', '--plan', '1', '--environment', '1'],
        asAdmin(),
      );
      expect(taken.code).toBe(5);
      expect(taken.stderr).toMatch(
        /^dbaas: Conflict: A database named my_first_database already exists/,
      );
      const invalid = await cli(
        ['databases', 'create', 'cli_bad', '--plan', '999', '--environment', '1', '-o', 'json'],
        asAdmin(),
      );
      expect(invalid.code).toBe(5);
      expect(invalid.stderr).toMatch(/^dbaas: Bad Request: .*\n {2}plan: no plan with id 999\n$/);
      expect(invalid.stdout).toBe('');
    });

    it('exits 4 for a database that does not exist or that the user may not see', async () => {
      expect((await cli(['databases', 'show', '999999'], asAdmin())).code).toBe(4);
      const byName = await cli(['databases', 'show', 'no_such_db'], asAdmin());
      expect(byName).toMatchObject({ code: 4, stderr: 'dbaas: no database named no_such_db\n' });
      // my_first_database belongs to the dbaas team, not to `user`'s team1.
      expect((await cli(['databases', 'show', '1'], asUser())).code).toBe(4);
    });

    it('exits 1 with the 503 detail when the engine is down, and the failed task says why', async () => {
      const infras = (await stack.http.get('/api/infra/?page_size=100')).body.infra as Array<{
        name: string;
        plan: string;
      }>;
      const mongo = infras.find((i) => i.name.startsWith('mongodb'))!;
      const answer = await cli(
        ['databases', 'create', 'cli_on_mongo', '--plan', mongo.plan, '--environment', '1'],
        asAdmin(),
      );
      expect(answer.code).toBe(1);
      expect(answer.stderr).toMatch(/^dbaas: Service Unavailable: /);

      const failed = await cli(
        ['tasks', 'list', '--status', 'error', '--type', 'create_database', '-o', 'json'],
        asAdmin(),
      );
      const [task] = JSON.parse(failed.stdout) as Array<{
        id: number;
        database_name: string;
        error: string;
      }>;
      expect(task).toMatchObject({ database_name: 'cli_on_mongo', error: expect.any(String) });
      const waited = await cli(['tasks', 'wait', String(task.id)], asAdmin());
      expect(waited.code).toBe(1);
      expect(waited.stderr).toMatch(new RegExp(`^task ${task.id}: error, \\d+ s\\n`, 'm'));
      expect(waited.stderr).toContain(
        `dbaas: task ${task.id} failed: ${task.error.split('\n')[0]}`,
      );
    });

    it('lists only the quarantined ones with --quarantined, and purge-quarantine (store) removes them', async () => {
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
      const listed = await cli(['databases', 'list', '--quarantined'], asAdmin());
      expect(listed.code).toBe(0);
      const [, ...rows] = table(listed);
      expect(rows).toEqual([
        [
          String(created.body.id),
          'cli_purge_me',
          'postgresql 15',
          'dev',
          'dbaas',
          'quarantined',
          expect.any(String),
          '-',
          '-',
        ],
      ]);
      expect(days).toContain(rows[0][6]);

      const kept = await storeCli(['purge-quarantine']);
      expect(kept).toMatchObject({ code: 0, stdout: 'Purged 0 database(s); 0 failed.\n' });
      const purged = await storeCli(['purge-quarantine'], { QUARANTINE_RETENTION_DAYS: '0' });
      expect(purged.code).toBe(0);
      expect(purged.stdout).toBe('Purged 1 database(s); 0 failed.\n');
      expect(purged.stderr).toContain('[1/1] cli_purge_me');
      const after = await cli(['databases', 'list', '--quarantined'], asAdmin());
      expect(after).toMatchObject({ code: 0, stdout: 'No databases.\n' });
    });
  });

  describe('credentials', () => {
    const connects = async (user: string, password: string, database: string) => {
      const client = new Client({
        connectionString: `postgresql://${user}:${encodeURIComponent(password)}@${stack.pg.address}/${database}`,
      });
      try {
        await client.connect();
        await client.query('SELECT 1');
        return true;
      } catch {
        return false;
      } finally {
        await client.end().catch(() => undefined);
      }
    };

    it('creates a credential that logs in, lists it without password, rotates and deletes it', async () => {
      const created = await cli(
        [
          'credentials',
          'create',
          'cli_reader',
          '--database',
          'my_first_database',
          '--privileges',
          'read-only',
        ],
        asAdmin(),
      );
      expect(created.code).toBe(0);
      const credential = detail(created);
      expect(credential).toMatchObject({
        user: 'cli_reader',
        database: 'my_first_database',
        privileges: 'read-only',
      });
      expect(credential.password).toMatch(/^\S{12,}$/);
      expect(await connects('cli_reader', credential.password, 'my_first_database')).toBe(true);

      const list = await cli(['credentials', 'list', '--database', '1'], asAdmin());
      expect(list.code).toBe(0);
      const [header, ...rows] = table(list);
      expect(header).toEqual(['ID', 'USER', 'DATABASE', 'PRIVILEGES', 'CREATED_AT']);
      expect(rows).toContainEqual([
        credential.id,
        'cli_reader',
        'my_first_database',
        'read-only',
        credential.created_at,
      ]);
      expect(list.stdout).not.toContain(credential.password);
      const listJson = await cli(['credentials', 'list', '-o', 'json'], asAdmin());
      const all = JSON.parse(listJson.stdout) as Array<Record<string, unknown>>;
      expect(all.length).toBeGreaterThanOrEqual(rows.length);
      for (const item of all) expect(item).not.toHaveProperty('password');

      const shown = await cli(['credentials', 'show', credential.id, '--json'], asAdmin());
      expect(JSON.parse(shown.stdout)).toMatchObject({
        id: Number(credential.id),
        password: credential.password,
      });

      const rotated = await cli(['credentials', 'rotate', credential.id, '-o', 'json'], asAdmin());
      expect(rotated.code).toBe(0);
      const newPassword = JSON.parse(rotated.stdout).password as string;
      expect(newPassword).not.toBe(credential.password);
      expect(await connects('cli_reader', credential.password, 'my_first_database')).toBe(false);
      expect(await connects('cli_reader', newPassword, 'my_first_database')).toBe(true);
      const reset = await cli(['credentials', 'reset-password', credential.id], asAdmin());
      expect(detail(reset).password).not.toBe(newPassword);

      const deleted = await cli(['credentials', 'delete', credential.id], asAdmin());
      expect(deleted).toMatchObject({
        code: 0,
        stdout: `Deleted credential cli_reader (id ${credential.id}): dropped on its engine.\n`,
      });
      expect((await cli(['credentials', 'show', credential.id], asAdmin())).code).toBe(4);
    });

    it('exits 5 for a taken user name and 4 for an unknown database', async () => {
      const taken = await cli(
        ['credentials', 'create', 'u_my_first_database', '--database', '1'],
        asAdmin(),
      );
      expect(taken.code).toBe(5);
      expect(taken.stderr).toMatch(/^dbaas: Conflict: /);
      const unknown = await cli(
        ['credentials', 'create', 'x', '--database', 'no_such_db'],
        asAdmin(),
      );
      expect(unknown.code).toBe(4);
    });
  });

  describe('tasks', () => {
    it('lists the newest tasks as a table and JSON, filters by database, shows and waits for one', async () => {
      const answer = await cli(
        ['tasks', 'list', '--database', 'my_first_database', '--limit', '5'],
        asAdmin(),
      );
      expect(answer.code).toBe(0);
      const [header, ...rows] = table(answer);
      expect(header).toEqual([
        'ID',
        'TYPE',
        'STATUS',
        'DATABASE',
        'CREATED_AT',
        'ENDED_AT',
        'ERROR',
      ]);
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.length).toBeLessThanOrEqual(5);
      for (const row of rows) expect(row[3]).toBe('my_first_database');

      const json = await cli(['tasks', 'list', '--json'], asAdmin());
      const tasks = JSON.parse(json.stdout) as Array<{ id: number; status: string }>;
      expect(tasks.map((t) => t.id)).toEqual([...tasks.map((t) => t.id)].sort((a, b) => b - a));
      const done = tasks.find((t) => t.status === 'success')!;

      const shown = await cli(['tasks', 'show', String(done.id)], asAdmin());
      expect(detail(shown)).toMatchObject({ id: String(done.id), status: 'success' });
      const waited = await cli(['tasks', 'wait', String(done.id), '-o', 'json'], asAdmin());
      expect(waited.code).toBe(0);
      expect(waited.stderr).toMatch(new RegExp(`^task ${done.id}: success, \\d+ s\\n$`));
      expect(JSON.parse(waited.stdout)).toMatchObject({ id: done.id, status: 'success' });
      expect((await cli(['tasks', 'show', '999999'], asAdmin())).code).toBe(4);
    });
  });

  describe('create-user (API) and create-admin (store)', () => {
    it('creates a user who can log in, with the password from the environment or stdin', async () => {
      const answer = await cli(['create-user', 'cli_alice', '--role', 'regular', '--team', '2'], {
        ...asAdmin(),
        DBAAS_NEW_USER_PASSWORD: 'alice-pw-1',
      });
      expect(answer).toMatchObject({ code: 0, stderr: '' });
      expect(answer.stdout).toMatch(/^Created user cli_alice \(id \d+, regular\)\n$/);
      const seen = await cli(
        ['databases', 'list', '-o', 'json'],
        apiLoginEnv(stack.api.baseUrl, 'cli_alice', 'alice-pw-1'),
      );
      expect(JSON.parse(seen.stdout).map((db: { name: string }) => db.name)).toEqual([
        'team1_database',
      ]);

      const piped = await cli(
        ['create-user', 'cli_bob', '--role', 'dba', '-o', 'json'],
        asAdmin(),
        'bob-pw-12\n',
      );
      expect(JSON.parse(piped.stdout)).toMatchObject({ username: 'cli_bob', role: 'dba' });
      expect(
        (await cli(['tasks', 'list'], apiLoginEnv(stack.api.baseUrl, 'cli_bob', 'bob-pw-12'))).code,
      ).toBe(0);
    });

    it('exits 5 for a taken name, 3 for a regular user, 2 for a short password', async () => {
      const taken = await cli(['create-user', 'admin', '--role', 'dba'], {
        ...asAdmin(),
        DBAAS_NEW_USER_PASSWORD: 'another-pw',
      });
      expect(taken.code).toBe(5);
      expect(taken.stderr).toMatch(/^dbaas: Conflict: /);
      const forbidden = await cli(['create-user', 'cli_eve', '--role', 'dba'], {
        ...asUser(),
        DBAAS_NEW_USER_PASSWORD: 'eve-pw-123',
      });
      expect(forbidden.code).toBe(3);
      expect(forbidden.stderr).toMatch(/^dbaas: Forbidden: /);
      const short = await cli(['create-user', 'cli_eve', '--role', 'dba'], {
        ...asAdmin(),
        DBAAS_NEW_USER_PASSWORD: 'abc',
      });
      expect(short.code).toBe(2);
    });

    it('create-admin writes a dba straight into the store', async () => {
      const answer = await storeCli(['create-admin', 'cli_root'], {
        DBAAS_NEW_USER_PASSWORD: 'root-pw-123',
      });
      expect(answer.code).toBe(0);
      expect(answer.stdout).toMatch(/^Created user cli_root \(id \d+, dba\)\n$/);
      expect(
        (
          await cli(
            ['infra', 'check', '-o', 'json'],
            apiLoginEnv(stack.api.baseUrl, 'cli_root', 'root-pw-123'),
          )
        ).stdout,
      ).toMatch(/"reachable"/);
    });
  });

  describe('store commands', () => {
    it('migrate applies (already applied) migrations and exits 0', async () => {
      const answer = await storeCli(['migrate']);
      expect(answer).toMatchObject({ code: 0, stdout: 'Migrations applied.\n' });
    });

    it('exits 1 with one line naming the variable on bad configuration', async () => {
      const answer = await storeCli(['migrate'], { DBAAS_SECRET_KEY: 'short' });
      expect(answer.code).toBe(1);
      expect(answer.stderr).toMatch(/dbaas: invalid configuration: .*DBAAS_SECRET_KEY/);
    });
  });

  // Last: it deletes the MongoDB infra.
  describe('infra check', () => {
    it('is for dbas: a regular user gets exit 3', async () => {
      const answer = await cli(['infra', 'check'], asUser());
      expect(answer.code).toBe(3);
    });

    it('prints the table and exits 1 because MongoDB is unreachable', async () => {
      const answer = await cli(['infra', 'check'], asAdmin());
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
      const json = await cli(['infra', 'check', '--output', 'json'], asAdmin());
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

      const answer = await cli(['infra', 'check'], asAdmin());
      expect(answer.code).toBe(0);
      expect(answer.stdout.trimEnd().split('\n')).toHaveLength(4);
      expect(answer.stdout).not.toMatch(/\sno\s/);
    });
  });
});
