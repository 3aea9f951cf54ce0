import { Writable } from 'node:stream';
import { createRootLogger, PinoLoggerService } from './logger';
import { requestContext, requestIdOf } from './request-context';

function capture(level: 'error' | 'warn' | 'log' | 'debug' = 'log') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { sut: new PinoLoggerService(createRootLogger(level, stream)), lines };
}

describe('PinoLoggerService', () => {
  it('writes JSON with the level, the context and, inside a request, its id', () => {
    const { sut, lines } = capture();
    sut.log('booting', 'dbaas');
    requestContext.run({ requestId: 'req-1' }, () => sut.warn('slow', 'Databases'));
    expect(lines).toEqual([
      expect.objectContaining({ level: 'info', context: 'dbaas', msg: 'booting' }),
      expect.objectContaining({ level: 'warn', context: 'Databases', msg: 'slow', reqId: 'req-1' }),
    ]);
    expect(lines[0]).not.toHaveProperty('reqId');
  });

  it('takes a stack apart from the context, and keeps only name, message and stack of an Error', () => {
    const { sut, lines } = capture();
    const stack = 'Error: boom\n    at somewhere (x.js:1:1)';
    sut.error('failed', stack, 'Problem');
    sut.error('failed without context', stack);
    const driverError = Object.assign(new Error('refused'), {
      sql: "ALTER USER x IDENTIFIED BY 'pw'",
    });
    sut.error(driverError, 'Engine');
    expect(lines[0]).toMatchObject({ level: 'error', context: 'Problem', msg: 'failed', stack });
    expect(lines[1]).toMatchObject({ msg: 'failed without context', stack });
    expect(lines[1]).not.toHaveProperty('context');
    expect(JSON.stringify(lines[2])).not.toContain('IDENTIFIED BY');
    expect(lines[2]).toMatchObject({
      context: 'Engine',
      error: { name: 'Error', message: 'refused' },
    });
  });

  it('honours LOG_LEVEL and censors secrets in logged objects', () => {
    const { sut, lines } = capture('warn');
    sut.log('hidden');
    sut.debug('hidden');
    sut.warn({ user: 'u', password: 'pw', headers: { authorization: 'Basic x' } });
    expect(lines).toHaveLength(1);
    expect(JSON.stringify(lines[0])).not.toMatch(/"pw"|Basic x/);
  });
});

describe('requestIdOf', () => {
  const request = (id?: string | string[]) => ({ headers: { 'x-request-id': id } }) as never;

  it('keeps a sane incoming id and replaces anything else with a UUID', () => {
    expect(requestIdOf(request('abc-123_x.y:z@w'))).toBe('abc-123_x.y:z@w');
    expect(requestIdOf(request(['first', 'second']))).toBe('first');
    for (const bad of [undefined, '', 'has space', 'x'.repeat(129), 'a\nb', '{"level":"fatal"}'])
      expect(requestIdOf(request(bad))).toMatch(/^[0-9a-f-]{36}$/);
  });
});
