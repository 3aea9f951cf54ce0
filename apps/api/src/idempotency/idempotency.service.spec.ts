import { ConflictError, SecretBox, ValidationFailedError } from '@dbaas/core';
import { ProcessIdentity } from '@dbaas/operations';
import { IdempotencyKeyEntity } from '@dbaas/persistence';
import { randomBytes } from 'node:crypto';
import { startStore, seedCatalog, TestStore } from '../../../../test/harness/store.harness';
import { IdempotencyKeyRepository } from './idempotency-key.repository';
import {
  IdempotencyKeyReusedError,
  IdempotencyService,
  ReplayedAnswer,
} from './idempotency.service';

/** Medium test: Idempotency-Key claims on a real PostgreSQL store (user 2 is `dev`). */
describe('IdempotencyService on a real PostgreSQL store', () => {
  let store: TestStore;
  let me: ProcessIdentity;
  let sut: IdempotencyService;
  const secrets = new SecretBox(randomBytes(32));
  const answer = { status: 201, body: { id: 7, password: 'pw-123456' }, headers: {} };

  beforeAll(async () => {
    store = await startStore();
    await seedCatalog(store.store);
    me = await ProcessIdentity.start(store.store);
    sut = new IdempotencyService(
      new IdempotencyKeyRepository(store.store.getRepository(IdempotencyKeyEntity), me),
      secrets,
    );
  }, 120_000);
  afterAll(async () => {
    await me?.onApplicationShutdown();
    await store?.destroy();
  }, 120_000);
  beforeEach(() => store.store.query('DELETE FROM idempotency_key'));

  const print = (body: unknown) => sut.fingerprint('POST', '/api/databases', body);

  it('accepts 1 to 255 visible ASCII characters as a key, nothing else', () => {
    expect(() => sut.validateKey('a')).not.toThrow();
    expect(() => sut.validateKey('x'.repeat(255))).not.toThrow();
    for (const bad of ['', 'x'.repeat(256), 'with space', 'é', 'tab\t']) {
      expect(() => sut.validateKey(bad)).toThrow(ValidationFailedError);
    }
  });

  it('fingerprints method, path (without a trailing slash) and body', () => {
    expect(sut.fingerprint('POST', '/api/databases/', { a: 1 })).toBe(print({ a: 1 }));
    expect(print({ a: 2 })).not.toBe(print({ a: 1 }));
    expect(sut.fingerprint('POST', '/api/credentials', { a: 1 })).not.toBe(print({ a: 1 }));
    // keyed: the digest of a body with a password is no plain hash anyone can recompute
    expect(print({ a: 1 })).not.toBe(new SecretBox(randomBytes(32)).digest('x'));
  });

  it('replays the stored answer to a retry with the same body, sealed at rest', async () => {
    const claim = await sut.claim(2, 'k1', print({ name: 'orders' }));
    await sut.complete(claim, answer);

    const retry = await sut.claim(2, 'k1', print({ name: 'orders' })).catch((e: unknown) => e);

    expect(retry).toBeInstanceOf(ReplayedAnswer);
    expect((retry as ReplayedAnswer).answer).toEqual(answer);
    const [row] = (await store.store.query('SELECT response_encrypted FROM idempotency_key')) as {
      response_encrypted: string;
    }[];
    expect(row.response_encrypted).not.toContain('pw-123456');
  });

  it('answers 422 to the same key with another body', async () => {
    await sut.claim(2, 'k1', print({ name: 'orders' }));

    await expect(sut.claim(2, 'k1', print({ name: 'invoices' }))).rejects.toBeInstanceOf(
      IdempotencyKeyReusedError,
    );
  });

  it('answers 409 to a retry while the first request still runs in a live process', async () => {
    await sut.claim(2, 'k1', print({ name: 'orders' }));

    await expect(sut.claim(2, 'k1', print({ name: 'orders' }))).rejects.toThrow(
      new ConflictError('A request with this Idempotency-Key is still being processed.'),
    );
  });

  it('keeps keys per user: the same key of another user is a claim of its own', async () => {
    await sut.claim(2, 'k1', print({ name: 'orders' }));

    await expect(sut.claim(1, 'k1', print({ name: 'other' }))).resolves.toMatchObject({
      userId: 1,
      status: 'running',
    });
  });

  it('frees the key of a request whose process ended, and after a release', async () => {
    const other = await store.open();
    const gone = await ProcessIdentity.start(other);
    const theirs = new IdempotencyService(
      new IdempotencyKeyRepository(other.getRepository(IdempotencyKeyEntity), gone),
      secrets,
    );
    await theirs.claim(2, 'k1', print({ name: 'orders' }));
    await gone.onApplicationShutdown(); // the other process ends with the request running
    await other.destroy();

    const mine = await sut.claim(2, 'k1', print({ name: 'orders' }));
    expect(mine).toMatchObject({ status: 'running', owner: me.id });

    await sut.release(mine);
    await expect(sut.claim(2, 'k1', print({ name: 'orders' }))).resolves.toMatchObject({
      status: 'running',
    });
  });

  it('takes over an owner-less claim only once it is 10 minutes old', async () => {
    const insert = (age: string) =>
      store.store.query(
        `INSERT INTO idempotency_key (user_id, key, fingerprint, status, created_at)
         VALUES (2, 'k1', $1, 'running', now() - $2::interval)`,
        [print({ name: 'orders' }), age],
      );
    await insert('5 minutes');
    await expect(sut.claim(2, 'k1', print({ name: 'orders' }))).rejects.toBeInstanceOf(
      ConflictError,
    );

    await store.store.query('DELETE FROM idempotency_key');
    await insert('11 minutes');
    await expect(sut.claim(2, 'k1', print({ name: 'orders' }))).resolves.toMatchObject({
      owner: me.id,
    });
  });

  it('forgets answers after 24 hours', async () => {
    const claim = await sut.claim(2, 'k1', print({ name: 'orders' }));
    await sut.complete(claim, answer);
    await store.store.query(`UPDATE idempotency_key SET created_at = now() - interval '25 hours'`);

    await expect(sut.claim(2, 'k1', print({ name: 'invoices' }))).resolves.toMatchObject({
      status: 'running',
    });
  });
});
