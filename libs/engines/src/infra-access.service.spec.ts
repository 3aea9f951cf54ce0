import { randomBytes } from 'node:crypto';
import { InfraRepository } from '@dbaas/catalog';
import { SecretBox } from '@dbaas/core';
import { InfraEntity } from '@dbaas/persistence';
import { EngineProvider } from './engine-provider';
import { EngineRegistry } from './engine-registry';
import { InfraAccess } from './infra-access.service';

/**
 * InfraAccess with a fake of the two InfraRepository methods it uses (findForEngineAccess,
 * onWrite), a real SecretBox and a registry of two stand-in providers. The clock is Jest's
 * (only Date is faked): the cache lasts 5 s.
 */
describe('InfraAccess', () => {
  const secrets = new SecretBox(randomBytes(32));
  const providers = ['mysql', 'redis'].map(
    (type) => ({ type, close: async () => undefined }) as unknown as EngineProvider,
  );
  let rows: Map<number, InfraEntity>;
  let lookups: number[];
  let writeListener: () => void;
  let sut: InfraAccess;

  const row = (id: number, engineType: string, password: string): InfraEntity =>
    ({
      id,
      addresses: [`db${id}:3306`],
      adminUser: 'root',
      adminPasswordEncrypted: secrets.encrypt(password),
      engine: { engineType: { name: engineType } },
    }) as unknown as InfraEntity;

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    jest.setSystemTime(1_000_000);
    rows = new Map([
      [1, row(1, 'mysql', 'pw-one')],
      [2, row(2, 'redis', 'pw-two')],
    ]);
    lookups = [];
    const infras = {
      findForEngineAccess: async (id: number) => {
        lookups.push(id);
        const found = rows.get(id);
        if (!found) throw new Error(`no infra ${id}`);
        return found;
      },
      onWrite: (listener: () => void) => (writeListener = listener),
    };
    sut = new InfraAccess(
      infras as unknown as InfraRepository,
      secrets,
      new EngineRegistry(providers),
    );
  });
  afterEach(() => jest.useRealTimers());

  it("gives the infra's provider and its admin login, password decrypted", async () => {
    const connected = await sut.connect(2);

    expect(connected.provider).toBe(providers[1]);
    expect(connected.infra).toBe(rows.get(2));
    expect(connected.target).toEqual({
      id: 2,
      addresses: ['db2:3306'],
      adminUser: 'root',
      adminPassword: 'pw-two',
    });
  });

  it('looks an infra up once for 5 seconds, per infra', async () => {
    await sut.connect(1);
    jest.setSystemTime(1_000_000 + 4_999);
    await sut.connect(1);
    await sut.connect(2);
    expect(lookups).toEqual([1, 2]);

    jest.setSystemTime(1_000_000 + 5_000);
    await sut.connect(1);
    expect(lookups).toEqual([1, 2, 1]);
  });

  it('never keeps a failed lookup', async () => {
    await expect(sut.connect(3)).rejects.toThrow('no infra 3');
    rows.set(3, row(3, 'mysql', 'pw-three'));

    await expect(sut.connect(3)).resolves.toMatchObject({ target: { adminPassword: 'pw-three' } });
    expect(lookups).toEqual([3, 3]);
  });

  it('a failed lookup that ends after a newer one leaves the newer one cached', async () => {
    // The store fails the first lookup late: an infra write meanwhile started a second one.
    let fail!: (error: Error) => void;
    const late = new Promise<InfraEntity>((_, reject) => (fail = reject));
    late.catch(() => undefined); // a mutant that never reads it must fail here, not crash Jest
    const infras = (sut as unknown as { infras: InfraRepository }).infras;
    jest.spyOn(infras, 'findForEngineAccess').mockReturnValueOnce(late);
    const first = sut.connect(1);
    writeListener();
    await sut.connect(1);
    fail(new Error('store down'));
    await expect(first).rejects.toThrow('store down');

    await sut.connect(1);
    expect(lookups).toEqual([1]);
  });

  it('looks up again after forget, of one infra or of all, and after any infra write', async () => {
    await sut.connect(1);
    await sut.connect(2);

    sut.forget(1);
    await sut.connect(1);
    await sut.connect(2);
    expect(lookups).toEqual([1, 2, 1]);

    sut.forget();
    await sut.connect(2);
    expect(lookups).toEqual([1, 2, 1, 2]);

    rows.set(2, row(2, 'redis', 'pw-changed'));
    writeListener();
    await expect(sut.connect(2)).resolves.toMatchObject({
      target: { adminPassword: 'pw-changed' },
    });
    expect(lookups).toEqual([1, 2, 1, 2, 2]);
  });

  it('drops expired lookups once it holds more than 1000, keeping the fresh ones', async () => {
    for (let id = 1; id <= 1000; id++) rows.set(id, row(id, 'mysql', `pw-${id}`));
    rows.set(1001, row(1001, 'mysql', 'pw-1001'));
    for (let id = 1; id <= 999; id++) await sut.connect(id);
    jest.setSystemTime(1_000_000 + 5_000);
    await sut.connect(1000);
    await sut.connect(1001); // 1001 entries: the 999 expired ones go

    const size = (sut as unknown as { cache: Map<number, unknown> }).cache.size;
    expect(size).toBe(2);
  });

  it('names the provider of an engine type, without an infra', () => {
    expect(sut.providerFor('redis')).toBe(providers[1]);
    expect(() => sut.providerFor('oracle')).toThrow(/No engine provider for "oracle"/);
  });
});
