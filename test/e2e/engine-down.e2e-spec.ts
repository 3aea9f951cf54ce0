import { expectProblem } from './support/http-client';
import { startStack, TestStack } from './support/test-stack';

/** An engine stopped mid-test: a clear 503, nothing half-made, and recovery without a restart. */
describe('engine down (e2e)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startStack({ engines: true });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('answers a create with 503 within 5 s, stores nothing, and succeeds once the engine is back', async () => {
    await stack.mariadb!.stop();
    const body = { name: 'while_down', plan: '/api/plan/2/', environment: '/api/environment/1/' };
    const down = await stack.http.post('/api/database/', body);
    expectProblem(down, 503);
    expect(down.ms).toBeLessThan(5_000);
    expect(down.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(down.text).not.toContain(stack.mariadb!.adminPassword);
    expect(await stack.metadata('SELECT id FROM database WHERE name = $1', ['while_down'])).toEqual(
      [],
    );
    expect(
      await stack.metadata('SELECT id FROM credential WHERE "user" = \'u_while_down\''),
    ).toEqual([]);

    const infra = await stack.http.get('/api/infra/2/');
    expect(infra.body.status.reachable).toBe(false);

    await stack.mariadb!.start();
    const up = await stack.http.post('/api/database/', body);
    expect(up.status).toBe(201);
    expect(up.body.status).toBe('ready');
  }, 60_000);

  it('answers reset_password and quarantine with 503 while the engine is down, and changes nothing', async () => {
    const created = await stack.http.post('/api/database/', {
      name: 'kept_safe',
      plan: 4,
      environment: 1,
    });
    const databasePath = new URL(created.body._links.self).pathname;
    const credentialPath = new URL(created.body.credentials[0]._links.self).pathname;
    const password = (await stack.http.get(credentialPath)).body.password;
    await stack.redis!.stop();
    try {
      expectProblem(await stack.http.post(`${credentialPath}reset_password/`), 503);
      expectProblem(await stack.http.delete(databasePath), 503);
      expect((await stack.http.get(credentialPath)).body.password).toBe(password);
      const detail = await stack.http.get(databasePath);
      expect(detail.body).toMatchObject({ status: 'ready', quarantine_dt: null });
    } finally {
      await stack.redis!.start();
    }
    expect((await stack.http.post(`${credentialPath}reset_password/`)).status).toBe(200);
  }, 60_000);
});
