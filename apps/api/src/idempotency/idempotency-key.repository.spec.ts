import { ProcessIdentity } from '@dbaas/operations';
import { IdempotencyKeyEntity } from '@dbaas/persistence';
import { seedCatalog, startStore, TestStore } from '../../../../test/harness/store.harness';
import { IdempotencyKeyRepository } from './idempotency-key.repository';

/** Medium test: the key claim and its takeover on a real PostgreSQL store (user 2 is `dev`). */
describe('IdempotencyKeyRepository on a real PostgreSQL store', () => {
  let store: TestStore;
  let me: ProcessIdentity;
  let sut: IdempotencyKeyRepository;
  const longAgo = () => new Date(Date.now() + 60_000); // every owner-less claim is older

  beforeAll(async () => {
    store = await startStore();
    await seedCatalog(store.store);
    me = await ProcessIdentity.start(store.store);
    sut = new IdempotencyKeyRepository(store.store.getRepository(IdempotencyKeyEntity), me);
  }, 120_000);
  afterAll(async () => {
    await me?.onApplicationShutdown();
    await store?.destroy();
  }, 120_000);
  beforeEach(() => store.store.query('DELETE FROM idempotency_key'));

  it('claims a key once per user: a second claim of the same key gets nothing', async () => {
    const first = await sut.claim(2, 'k1', 'print');

    expect(first).toMatchObject({ userId: 2, key: 'k1', status: 'running', owner: me.id });
    expect(await sut.claim(2, 'k1', 'print')).toBeNull();
    expect(await sut.claim(1, 'k1', 'print')).toMatchObject({ userId: 1 });
  });

  it('racing claims of one key: exactly one wins', async () => {
    const claims = await Promise.all([1, 2, 3, 4].map(() => sut.claim(2, 'k1', 'print')));

    expect(claims.filter((claim) => claim !== null)).toHaveLength(1);
  });

  it('keeps the claim of a live owner and a finished answer, frees one whose owner ended', async () => {
    const mine = (await sut.claim(2, 'live', 'print'))!;
    expect(await sut.deleteIfAbandoned(mine.id, { ownerlessBefore: longAgo() })).toBe(false);

    const done = (await sut.claim(2, 'done', 'print'))!;
    await sut.markDone(done.id, { status: 201, encrypted: 'sealed' });
    await store.store.query('UPDATE idempotency_key SET owner = NULL WHERE id = $1', [done.id]);
    expect(await sut.deleteIfAbandoned(done.id, { ownerlessBefore: longAgo() })).toBe(false);
    expect(await sut.find(2, 'done')).toMatchObject({
      status: 'done',
      responseEncrypted: 'sealed',
    });

    const other = await store.open();
    const gone = await ProcessIdentity.start(other);
    const theirs = (await new IdempotencyKeyRepository(
      other.getRepository(IdempotencyKeyEntity),
      gone,
    ).claim(2, 'orphan', 'print'))!;
    expect(await sut.deleteIfAbandoned(theirs.id, { ownerlessBefore: new Date(0) })).toBe(false);
    await gone.onApplicationShutdown();
    await other.destroy();

    expect(await sut.deleteIfAbandoned(theirs.id, { ownerlessBefore: new Date(0) })).toBe(true);
    expect(await sut.find(2, 'orphan')).toBeNull();
  });

  it('frees an owner-less running claim only once it is older than the limit', async () => {
    const claim = (await sut.claim(2, 'old', 'print'))!;
    await store.store.query('UPDATE idempotency_key SET owner = NULL WHERE id = $1', [claim.id]);

    expect(await sut.deleteIfAbandoned(claim.id, { ownerlessBefore: new Date(0) })).toBe(false);
    expect(await sut.deleteIfAbandoned(claim.id, { ownerlessBefore: longAgo() })).toBe(true);
  });
});
