import Fastify, { FastifyInstance } from 'fastify';
import { originGuard } from './origin';
import { RequestRefusedError } from './request-refused';

describe('originGuard', () => {
  let sut: FastifyInstance;

  beforeEach(async () => {
    sut = Fastify();
    sut.addHook(
      'onRequest',
      originGuard({
        publicUrl: 'https://dbaas.example.com/dbaas',
        allowedOrigins: ['https://console.example.com'],
      }),
    );
    sut.setErrorHandler((error, _request, reply) => {
      void reply.status(error instanceof RequestRefusedError ? error.status : 500).send();
    });
    sut.all('/x', async () => 'ok');
    await sut.ready();
  });

  afterEach(() => sut.close());

  const status = async (
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS',
    headers: Record<string, string>,
  ) =>
    (await sut.inject({ method, url: '/x', headers: { host: 'api.internal:8000', ...headers } }))
      .statusCode;

  it.each(['POST', 'PUT', 'PATCH', 'DELETE'] as const)(
    'refuses %s from another site or origin',
    async (method) => {
      expect(await status(method, { 'sec-fetch-site': 'cross-site' })).toBe(403);
      expect(await status(method, { origin: 'https://evil.example' })).toBe(403);
      expect(await status(method, { origin: 'null' })).toBe(403);
      expect(await status(method, { origin: 'https://api.internal:8000' })).toBe(403);
      expect(await status(method, { origin: 'https://console.example.com.evil.example' })).toBe(
        403,
      );
    },
  );

  it('lets through clients that are not browsers, same-origin pages, the public origin and the listed ones', async () => {
    expect(await status('POST', {})).toBe(200);
    expect(
      await status('POST', { origin: 'http://api.internal:8000', 'sec-fetch-site': 'same-origin' }),
    ).toBe(200);
    expect(await status('POST', { origin: 'http://API.internal:8000' })).toBe(200);
    expect(await status('POST', { origin: 'https://dbaas.example.com' })).toBe(200);
    expect(
      await status('DELETE', {
        origin: 'https://console.example.com',
        'sec-fetch-site': 'cross-site',
      }),
    ).toBe(200);
    expect(await status('POST', { 'sec-fetch-site': 'same-site' })).toBe(200);
  });

  it.each(['GET', 'HEAD', 'OPTIONS'] as const)(
    'lets %s through from anywhere: it changes nothing',
    async (method) => {
      expect(
        await status(method, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }),
      ).toBe(200);
    },
  );
});
