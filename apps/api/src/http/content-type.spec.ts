import Fastify, { FastifyInstance } from 'fastify';
import { installBodyParsers } from './content-type';
import { RequestRefusedError } from './request-refused';

describe('installBodyParsers', () => {
  let sut: FastifyInstance;

  beforeEach(async () => {
    sut = Fastify();
    installBodyParsers(sut, 1024);
    sut.setErrorHandler((error, _request, reply) => {
      const status =
        error instanceof RequestRefusedError
          ? error.status
          : ((error as { statusCode?: number }).statusCode ?? 500);
      void reply
        .status(status)
        .send({ refused: error instanceof RequestRefusedError ? error.detail : String(error) });
    });
    sut.all('/echo', async (request) => ({
      body: request.body === undefined ? 'none' : request.body,
    }));
    await sut.ready();
  });

  afterEach(() => sut.close());

  const send = (
    payload: string | Buffer,
    contentType?: string,
    method: 'POST' | 'DELETE' = 'POST',
  ) =>
    sut.inject({
      method,
      url: '/echo',
      payload,
      headers: contentType ? { 'content-type': contentType } : {},
    });

  it('reads JSON, with or without a UTF-8 charset', async () => {
    expect((await send('{"a":[1]}', 'application/json')).json()).toEqual({ body: { a: [1] } });
    expect((await send('{"a":1}', 'application/json; charset=UTF-8')).json()).toEqual({
      body: { a: 1 },
    });
  });

  it.each([
    ['a form', 'a=1', 'application/x-www-form-urlencoded'],
    ['plain text', '{"a":1}', 'text/plain'],
    ['multipart', '--x\r\n\r\n--x--', 'multipart/form-data; boundary=x'],
    ['JSON in another charset', '{"a":1}', 'application/json; charset=latin1'],
    ['no content type', '{"a":1}', undefined],
  ])('refuses %s with 415', async (_case, payload, contentType) => {
    const answer = await send(payload, contentType);
    expect(answer.statusCode).toBe(415);
  });

  it.each(['application/x-www-form-urlencoded', 'text/plain', 'application/json'])(
    'reads an empty %s body as no body',
    async (contentType) => {
      expect((await send('', contentType)).json()).toEqual({ body: 'none' });
      expect((await send('', contentType, 'DELETE')).json()).toEqual({ body: 'none' });
    },
  );

  it('refuses invalid UTF-8, JSON nested too deep and malformed JSON with 400, each in its own words', async () => {
    const bad = await send(
      Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]),
      'application/json',
    );
    expect([bad.statusCode, bad.json().refused]).toEqual([400, 'The body is not valid UTF-8.']);
    const deep = await send('['.repeat(33) + ']'.repeat(33), 'application/json');
    expect([deep.statusCode, deep.json().refused]).toEqual([
      400,
      'The JSON body is nested more than 32 levels deep.',
    ]);
    expect((await send('['.repeat(32) + ']'.repeat(32), 'application/json')).statusCode).toBe(200);
    const malformed = await send('{"a":', 'application/json');
    expect([malformed.statusCode, malformed.json().refused]).toEqual([
      400,
      'The body is not valid JSON.',
    ]);
    expect((await send('{"__proto__":{"x":1}}', 'application/json')).statusCode).toBe(400);
  });

  it('keeps the body limit', async () => {
    expect(
      (await send(JSON.stringify({ a: 'x'.repeat(2000) }), 'application/json')).statusCode,
    ).toBe(413);
  });
});
