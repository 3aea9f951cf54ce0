import Redis from 'ioredis';
import { expectProblem, HttpClient } from './support/http-client';
import { startStack, TestStack } from './support/test-stack';

/** The sample catalog: plan 4 is the Redis plan, offered in dev (1) and prod (2); infra 4 is dev's Redis. */
const REDIS_PLAN = 4;
const DEV = 1;
const PROD = 2;

/** The NOPERM refusal of a command (or subcommand, `client|tracking`) by the ACL rules. */
const refusedCommand = (command: string) =>
  new RegExp(`^NOPERM .*'${command.replace(/\|/g, '\\|')}' command`);
/** Redis 7.0 names no channel in its refusal (7.2 does); this is the channel-permission one. */
const REFUSED_CHANNEL = /^NOPERM this user has no permissions to access .*channel/;

/**
 * Commands that would tell a tenant about other tenants' keys (names, counts, values), other
 * clients or the server as a whole, each with an invocation that would leak if allowed.
 * redis-acl.ts holds the review of the whole command table these come from (DEBUG is left
 * out: Redis 7 refuses it to every connection before the ACL check, unless configured).
 */
const LEAKS: [command: string, args: string[]][] = [
  ['client|tracking', ['CLIENT', 'TRACKING', 'on', 'BCAST']],
  ['client|list', ['CLIENT', 'LIST']],
  ['memory|stats', ['MEMORY', 'STATS']],
  ['memory|doctor', ['MEMORY', 'DOCTOR']],
  ['memory|malloc-stats', ['MEMORY', 'MALLOC-STATS']],
  ['memory|purge', ['MEMORY', 'PURGE']],
  ['dbsize', ['DBSIZE']],
  ['info', ['INFO', 'keyspace']],
  ['keys', ['KEYS', '*']],
  ['scan', ['SCAN', '0']],
  ['randomkey', ['RANDOMKEY']],
  ['latency|latest', ['LATENCY', 'LATEST']],
  ['latency|doctor', ['LATENCY', 'DOCTOR']],
  ['slowlog|get', ['SLOWLOG', 'GET']],
  ['monitor', ['MONITOR']],
  ['pubsub|channels', ['PUBSUB', 'CHANNELS']],
  ['pubsub|numsub', ['PUBSUB', 'NUMSUB', 'tenant_b:chan']],
  ['pubsub|shardchannels', ['PUBSUB', 'SHARDCHANNELS']],
  ['sort', ['SORT', 'tenant_a:list', 'BY', 'tenant_b:*']],
  ['sort_ro', ['SORT_RO', 'tenant_a:list', 'GET', 'tenant_b:*']],
  ['acl|log', ['ACL', 'LOG']],
  ['acl|list', ['ACL', 'LIST']],
  ['acl|users', ['ACL', 'USERS']],
  ['config|get', ['CONFIG', 'GET', 'notify-keyspace-events']],
  ['cluster|getkeysinslot', ['CLUSTER', 'GETKEYSINSLOT', '0', '10']],
  ['cluster|countkeysinslot', ['CLUSTER', 'COUNTKEYSINSLOT', '0']],
  ['function|list', ['FUNCTION', 'LIST']],
  ['script|debug', ['SCRIPT', 'DEBUG', 'yes']],
];

/** Channels that carry other tenants' key names or messages. */
const FOREIGN_CHANNELS = [
  '__keyevent@0__:set',
  '__keyspace@0__:tenant_b:secret_name',
  '__redis__:invalidate',
  'tenant_b:chan',
];

describe('Redis tenants on a shared server (e2e)', () => {
  let stack: TestStack;
  let http: HttpClient;
  let admin: Redis;
  const clients: Redis[] = [];

  /** Logs in the way an application would, with a credential the API issued. */
  async function login(user: string, password: string): Promise<Redis> {
    const client = new Redis({
      host: stack.redis!.host,
      port: stack.redis!.port,
      username: user,
      password,
      lazyConnect: true,
      enableReadyCheck: false, // INFO is refused to tenants
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    client.on('error', () => undefined);
    clients.push(client);
    await client.connect();
    await client.ping();
    return client;
  }

  async function createDatabase(name: string, environment: number) {
    return http.post('/api/database/', { name, plan: REDIS_PLAN, environment });
  }

  async function credentialOf(
    path: string,
  ): Promise<{ id: number; user: string; password: string }> {
    const answer = await http.get(path);
    expect(answer.status).toBe(200);
    return answer.body;
  }

  const aclUsers = async () => ((await admin.call('ACL', 'USERS')) as string[]).sort();

  beforeAll(async () => {
    stack = await startStack({ engines: true });
    http = stack.http;
    admin = new Redis(stack.redis!.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    await admin.connect();
  }, 180_000);

  afterAll(async () => {
    for (const client of clients) client.disconnect();
    admin?.disconnect();
    await stack?.stop();
  });

  describe('what a tenant credential may learn of others', () => {
    let owner: { user: string; password: string };
    let reader: { user: string; password: string };

    beforeAll(async () => {
      const a = await createDatabase('tenant_a', DEV);
      expect(a.status).toBe(201);
      owner = await credentialOf(new URL(a.body.credentials[0]._links.self).pathname);
      const ro = await http.post('/api/credential/', {
        user: 'ro_tenant_a',
        database: a.body.id,
        privileges: 'read-only',
      });
      expect(ro.status).toBe(201);
      reader = ro.body;
      const b = await createDatabase('tenant_b', DEV);
      expect(b.status).toBe(201);
      const ownerB = await credentialOf(new URL(b.body.credentials[0]._links.self).pathname);
      await (await login(ownerB.user, ownerB.password)).set('tenant_b:secret_name', 'b');
    });

    it.each([
      ['owner', () => owner],
      ['read-only', () => reader],
    ])(
      'the %s credential gets NOPERM for every command that reveals other keys, clients or counts',
      async (_, who) => {
        const client = await login(who().user, who().password);
        for (const [command, args] of LEAKS) {
          const refusal = await client.call(args[0], ...args.slice(1)).then(
            (answer) => `answered ${JSON.stringify(answer).slice(0, 80)}`,
            (error: Error) => error.message,
          );
          expect({ command, refusal }).toEqual({
            command,
            refusal: expect.stringMatching(refusedCommand(command)),
          });
        }
      },
    );

    it('the owner still works on its own prefix: keys, memory usage, its own client, scripts, transactions, WAIT', async () => {
      const client = await login(owner.user, owner.password);
      await client.set('tenant_a:k', 'v');
      expect(await client.get('tenant_a:k')).toBe('v');
      expect(await client.exists('tenant_a:k')).toBe(1);
      expect(Number(await client.call('MEMORY', 'USAGE', 'tenant_a:k'))).toBeGreaterThan(0);
      expect(await client.call('OBJECT', 'ENCODING', 'tenant_a:k')).toBe('embstr');
      const info = String(await client.call('CLIENT', 'INFO'));
      expect(info).toContain(`user=${owner.user}`);
      expect(
        await client.call('EVAL', "return redis.call('GET', KEYS[1])", '1', 'tenant_a:k'),
      ).toBe('v');
      expect(await client.multi().incr('tenant_a:n').get('tenant_a:n').exec()).toEqual([
        [null, 1],
        [null, '1'],
      ]);
      expect(await client.call('WAIT', '0', '0')).toBe(0);
      // A script runs with the caller's rules: what is denied outside is denied inside.
      for (const command of [['MEMORY', 'STATS'], ['SCAN', '0'], ['DBSIZE']]) {
        const script = `return redis.call(${command.map((part) => `'${part}'`).join(',')})`;
        await expect(client.call('EVAL', script, '0')).rejects.toThrow(
          /^ERR The user executing the script can't run this command or subcommand/,
        );
      }
      // Other prefixes stay out of reach, by name too.
      await expect(client.get('tenant_b:secret_name')).rejects.toThrow(/^NOPERM .*keys/);
    });

    it('the read-only credential still reads its own prefix', async () => {
      const client = await login(reader.user, reader.password);
      expect(await client.get('tenant_a:k')).toBe('v');
      expect(Number(await client.call('MEMORY', 'USAGE', 'tenant_a:k'))).toBeGreaterThan(0);
      expect(String(await client.call('CLIENT', 'INFO'))).toContain(`user=${reader.user}`);
    });

    it("keeps keyspace notifications and other tenants' channels out of reach; its own channels work", async () => {
      await admin.call('CONFIG', 'SET', 'notify-keyspace-events', 'KEA');
      try {
        for (const who of [owner, reader]) {
          const subscriber = await login(who.user, who.password);
          for (const channel of FOREIGN_CHANNELS) {
            await expect(subscriber.subscribe(channel)).rejects.toThrow(REFUSED_CHANNEL);
          }
          for (const pattern of ['*', '__key*__:*', 'tenant_b:*']) {
            await expect(subscriber.psubscribe(pattern)).rejects.toThrow(REFUSED_CHANNEL);
          }
        }
        const sharded = await login(owner.user, owner.password);
        await expect(sharded.call('SSUBSCRIBE', 'tenant_b:chan')).rejects.toThrow(REFUSED_CHANNEL);
        const publisher = await login(owner.user, owner.password);
        await expect(publisher.publish('tenant_b:chan', 'x')).rejects.toThrow(REFUSED_CHANNEL);
        const subscriber = await login(reader.user, reader.password);
        const received = new Promise<string>((resolve) =>
          subscriber.on('pmessage', (_p, _c, message) => resolve(message)),
        );
        await subscriber.psubscribe('tenant_a:*');
        expect(await publisher.publish('tenant_a:chan', 'hello')).toBe(1);
        await expect(received).resolves.toBe('hello');
      } finally {
        await admin.call('CONFIG', 'SET', 'notify-keyspace-events', '');
      }
    });

    it('confines the channels of a new credential even where the server grants all channels by default', async () => {
      await admin.call('CONFIG', 'SET', 'acl-pubsub-default', 'allchannels');
      let created;
      try {
        created = await http.post('/api/credential/', {
          user: 'late_tenant_a',
          database: await idOf('tenant_a'),
        });
      } finally {
        await admin.call('CONFIG', 'SET', 'acl-pubsub-default', 'resetchannels');
      }
      expect(created.status).toBe(201);
      const subscriber = await login(created.body.user, created.body.password);
      await expect(subscriber.subscribe('tenant_b:chan')).rejects.toThrow(REFUSED_CHANNEL);
      await expect(subscriber.subscribe('__keyevent@0__:set')).rejects.toThrow(REFUSED_CHANNEL);
      await expect(subscriber.subscribe('tenant_a:chan')).resolves.toBe(1);
    });
  });

  async function idOf(name: string): Promise<number> {
    const [row] = await stack.metadata<{ id: number }>('SELECT id FROM database WHERE name = $1', [
      name,
    ]);
    return Number(row.id);
  }

  describe('a prefix cannot be taken over from another infra on the same server', () => {
    let secondInfra: number;

    beforeAll(async () => {
      const infra = await http.post('/api/infra/', {
        name: 'redis-prod-same-server',
        engine: 4,
        plan: REDIS_PLAN,
        environment: PROD,
        addresses: [stack.redis!.address],
        admin_user: stack.redis!.adminUser,
        admin_password: stack.redis!.adminPassword,
        capacity: 10,
      });
      expect(infra.status).toBe(201);
      secondInfra = infra.body.id;
    });

    it('places a free prefix on the second infra', async () => {
      expect((await createDatabase('fresh_prefix', PROD)).status).toBe(201);
      const [row] = await stack.metadata<{ infra_id: number }>(
        'SELECT infra_id FROM database WHERE name = $1',
        ['fresh_prefix'],
      );
      expect(Number(row.infra_id)).toBe(secondInfra);
    });

    it('refuses (409) a create where keys of the prefix exist, whoever wrote them, and creates nothing', async () => {
      await admin.set('orphan:a', '1');
      await admin.set('orphan:b', '2');
      const usersBefore = await aclUsers();
      for (const environment of [PROD, DEV])
        expectProblem(await createDatabase('orphan', environment), 409);
      expect(await stack.metadata('SELECT id FROM database WHERE name = $1', ['orphan'])).toEqual(
        [],
      );
      expect(await aclUsers()).toEqual(usersBefore);
      expect(await admin.mget('orphan:a', 'orphan:b')).toEqual(['1', '2']);
    });

    it("refuses (409) a create of a live database's name on the other infra, and deleting its last owner credential", async () => {
      const created = await createDatabase('shared_name', DEV);
      expect(created.status).toBe(201);
      const defaultPath = new URL(created.body.credentials[0]._links.self).pathname;
      const owner = await credentialOf(defaultPath);
      await (await login(owner.user, owner.password)).set('shared_name:k', 'mine');

      const usersBefore = await aclUsers();
      expectProblem(await createDatabase('shared_name', PROD), 409);
      expect(
        await stack.metadata('SELECT infra_id FROM database WHERE name = $1', ['shared_name']),
      ).toEqual([{ infra_id: 4 }]);

      // The only credential: refused, and nothing changes, neither on the engine nor in the store.
      const storeBefore = await stack.metadata(
        'SELECT id, "user", status FROM credential ORDER BY id',
      );
      const [{ count: tasksBefore }] = await stack.metadata<{ count: string }>(
        'SELECT count(*) FROM task',
      );
      expectProblem(await http.delete(defaultPath), 409);
      expect(await stack.metadata('SELECT id, "user", status FROM credential ORDER BY id')).toEqual(
        storeBefore,
      );
      expect(await stack.metadata('SELECT count(*) FROM task')).toEqual([{ count: tasksBefore }]);
      expect(await aclUsers()).toEqual(usersBefore);
      expect(await (await login(owner.user, owner.password)).get('shared_name:k')).toBe('mine');

      // With a second owner the first may go; then the second is the last one.
      const second = await http.post('/api/credential/', {
        user: 'second_owner',
        database: created.body.id,
      });
      expect(second.status).toBe(201);
      const reader = await http.post('/api/credential/', {
        user: 'shared_reader',
        database: created.body.id,
        privileges: 'read-only',
      });
      expect(reader.status).toBe(201);
      expect((await http.delete(defaultPath)).status).toBe(204);
      expectProblem(await http.delete(`/api/credential/${second.body.id}/`), 409);
      expect((await http.delete(`/api/credential/${reader.body.id}/`)).status).toBe(204);
      expect(await (await login('second_owner', second.body.password)).get('shared_name:k')).toBe(
        'mine',
      );
      expectProblem(await createDatabase('shared_name', PROD), 409);
    });
  });
});
