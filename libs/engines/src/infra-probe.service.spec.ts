import { EngineUnavailableError } from '@dbaas/core';
import { InfraEntity } from '@dbaas/persistence';
import { EngineProvider, InfraTarget } from './engine-provider';
import { ConnectedInfra, InfraAccess } from './infra-access.service';
import { InfraProbe, ProbeTimeout, within } from './infra-probe.service';
import { EngineCommandError } from './common/engine-errors';
import { ConnectionFailed } from './common/tcp-reach';
import { MongodbProvider } from './mongodb/mongodb.provider';
import { MysqlProvider } from './mysql/mysql.provider';
import { PostgresqlProvider } from './postgresql/postgresql.provider';
import { RedisProvider } from './redis/redis.provider';
import { AddressInfo, createServer, Server } from 'node:net';

/** A loopback port that accepted a connection a moment ago and now refuses: nothing listens. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('InfraProbe', () => {
  // The fake providers' infra listens (a bare TCP server), so the probe's own TCP look finds
  // it open and leaves the answer to the provider.
  let listening: Server;
  let address: string;
  beforeAll(async () => {
    listening = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(listening.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => listening.close(resolve)));

  let target: InfraTarget;
  let provider: jest.Mocked<Pick<EngineProvider, 'ping' | 'securityWarnings'>>;
  let access: jest.Mocked<Pick<InfraAccess, 'connect'>>;
  let sut: InfraProbe;
  const cached = { maxAgeMs: 60_000, timeoutMs: 1_000, warnings: { maxAgeMs: 60_000 } };

  beforeEach(() => {
    target = { id: 3, addresses: [address], adminUser: 'admin', adminPassword: 'pw-one' };
    provider = {
      ping: jest.fn(async (_infra: InfraTarget) => ({ version: '15.4' })),
      securityWarnings: jest.fn(async (_infra: InfraTarget) => ['trust']),
    };
    access = {
      connect: jest.fn(
        async (_id: number) =>
          ({
            infra: {} as InfraEntity,
            provider,
            target: { ...target },
          }) as unknown as ConnectedInfra,
      ),
    };
    sut = new InfraProbe(access as unknown as InfraAccess);
  });

  it('pings and checks, and reuses the answer within maxAgeMs', async () => {
    const first = await sut.probe(3, cached);
    expect(first).toEqual({ reachable: true, version: '15.4', error: null, warnings: ['trust'] });
    await expect(sut.probe(3, cached)).resolves.toEqual(first);
    expect(provider.ping).toHaveBeenCalledTimes(1);
    expect(provider.securityWarnings).toHaveBeenCalledTimes(1);
  });

  it('probes again with maxAgeMs 0, and when the admin login changed', async () => {
    await sut.probe(3, cached);
    await sut.probe(3, { ...cached, maxAgeMs: 0 });
    expect(provider.ping).toHaveBeenCalledTimes(2);
    expect(provider.securityWarnings).toHaveBeenCalledTimes(1);
    target.adminPassword = 'pw-two';
    await sut.probe(3, cached);
    expect(provider.ping).toHaveBeenCalledTimes(3);
  });

  it('runs no security check unless asked, and keeps the checks for their own maxAgeMs', async () => {
    await expect(sut.probe(3, { maxAgeMs: 0, timeoutMs: 1_000 })).resolves.toMatchObject({
      reachable: true,
      warnings: [],
    });
    expect(provider.securityWarnings).not.toHaveBeenCalled();
    await sut.probe(3, { maxAgeMs: 0, timeoutMs: 1_000, warnings: { maxAgeMs: 60_000 } });
    await sut.probe(3, { maxAgeMs: 0, timeoutMs: 1_000, warnings: { maxAgeMs: 60_000 } });
    expect(provider.ping).toHaveBeenCalledTimes(3);
    expect(provider.securityWarnings).toHaveBeenCalledTimes(1);
  });

  it('reports an unreachable engine with its error, and still runs the checks', async () => {
    const down = new EngineUnavailableError('postgresql at h:5432 is unavailable: refused');
    provider.ping.mockRejectedValue(down);
    await expect(sut.probe(3, cached)).resolves.toEqual({
      reachable: false,
      version: null,
      error: down,
      warnings: ['trust'],
    });
  });

  it('a failed check leaves the ping answer alone, without warnings', async () => {
    provider.securityWarnings.mockRejectedValue(new Error('permission denied'));
    await expect(sut.probe(3, cached)).resolves.toMatchObject({ reachable: true, warnings: [] });
  });

  it('an engine slower than timeoutMs is unreachable with a ProbeTimeout', async () => {
    provider.ping.mockReturnValue(new Promise(() => undefined));
    const health = await sut.probe(3, { maxAgeMs: 0, timeoutMs: 20 });
    expect(health.reachable).toBe(false);
    expect(health.error).toBeInstanceOf(ProbeTimeout);
    // The message is what the infra status shows (`error`).
    expect(health.error?.message).toBe('no answer within 0.02 s');
    expect(health.error?.name).toBe('ProbeTimeout');
  });

  it('within leaves no timer behind once the promise settled', async () => {
    jest.useFakeTimers();
    try {
      await expect(within(Promise.resolve('done'), 60_000)).resolves.toBe('done');
      await expect(within(Promise.reject(new Error('no')), 60_000)).rejects.toThrow('no');
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('keeps the answers of several infras side by side', async () => {
    await sut.probe(3, cached);
    await sut.probe(4, cached);
    await sut.probe(3, cached);
    await sut.probe(4, cached);
    expect(provider.ping).toHaveBeenCalledTimes(2);
    expect(provider.securityWarnings).toHaveBeenCalledTimes(2);
  });

  it('a driver that says "unavailable" before the TCP look knows gets the TCP cause', async () => {
    // ioredis says only "Connection is closed", at once: the refusal is the useful answer.
    target.addresses = [`127.0.0.1:${await closedPort()}`];
    provider.ping.mockRejectedValue(new EngineUnavailableError('Connection is closed'));
    const health = await sut.probe(3, { maxAgeMs: 0, timeoutMs: 2_000 });
    expect(health.error).toBeInstanceOf(ConnectionFailed);
    expect((health.error as ConnectionFailed).reason).toBe('connection refused');
  });

  it('a ping that throws before it returns a promise leaves no rejection unhandled', async () => {
    target.addresses = [`127.0.0.1:${await closedPort()}`];
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      provider.ping.mockImplementation(() => {
        throw new EngineUnavailableError('Connection is closed');
      });
      const health = await sut.probe(3, { maxAgeMs: 0, timeoutMs: 2_000 });
      expect(health.error).toBeInstanceOf(ConnectionFailed);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', listener);
    }
  });

  it("an engine's own refusal is never replaced by the TCP look", async () => {
    target.addresses = [`127.0.0.1:${await closedPort()}`];
    const refused = new EngineCommandError('redis', 'WRONGPASS invalid username-password pair');
    provider.ping.mockRejectedValue(refused);
    const health = await sut.probe(3, { maxAgeMs: 0, timeoutMs: 2_000 });
    expect(health.error).toBe(refused);
  });

  it('an infra that cannot be looked up is unreachable, and not kept', async () => {
    access.connect.mockRejectedValueOnce(new Error('no such infra'));
    await expect(sut.probe(3, cached)).resolves.toMatchObject({ reachable: false, warnings: [] });
    await expect(sut.probe(3, cached)).resolves.toMatchObject({ reachable: true });
  });

  describe('an engine that refuses connections at once (a closed loopback port)', () => {
    const engines = [
      ['mongodb', () => new MongodbProvider()],
      ['postgresql', () => new PostgresqlProvider()],
      ['mysql', () => new MysqlProvider()],
      ['redis', () => new RedisProvider()],
    ] as const;

    it.each(engines)(
      '%s: "connection refused" at once, not a timeout',
      async (_, make) => {
        const port = await closedPort();
        const real = make();
        access.connect.mockResolvedValue({
          infra: {} as InfraEntity,
          provider: real,
          target: {
            id: 4,
            addresses: [`127.0.0.1:${port}`],
            adminUser: 'admin',
            adminPassword: 'x',
          },
        } as unknown as ConnectedInfra);
        const health = await sut.probe(4, { maxAgeMs: 0, timeoutMs: 2_000 });
        await real.close?.();
        expect(health).toMatchObject({ reachable: false, version: null });
        expect(health.error).toBeInstanceOf(ConnectionFailed);
        expect((health.error as ConnectionFailed).reason).toBe('connection refused');
        expect(health.error?.message).toBe(`connection refused (127.0.0.1:${port})`);
        // MongoDB's driver alone retries for 3 s (its server selection): a probe that waited for
        // it would end on its own 2 s timeout, with the reason `timeout`, not the refusal above.
        // Its own timeout: the four drivers load and close in more than 4 s on a loaded machine.
      },
      15_000,
    );
  });
});
