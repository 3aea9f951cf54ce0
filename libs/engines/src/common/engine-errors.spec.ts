import { EngineUnavailableError } from '@dbaas/core';
import {
  commandError,
  EngineCommandError,
  redact,
  translateDriverError,
  unavailable,
} from './engine-errors';

describe('engine errors', () => {
  it('redacts every occurrence of each secret of four characters or more', () => {
    expect(redact('pw hunter2 again hunter2, key abcd', ['hunter2', 'abcd'])).toBe(
      'pw *** again ***, key ***',
    );
  });

  it('leaves secrets shorter than four characters and missing ones alone', () => {
    expect(redact('abc is short', ['abc', undefined, ''])).toBe('abc is short');
  });

  it('reports an unreachable engine with its addresses and a redacted cause', () => {
    const error = unavailable('mysql', ['a:1', 'b:2'], new Error('denied for s3cret!'), [
      's3cret!',
    ]);
    expect(error).toBeInstanceOf(EngineUnavailableError);
    expect(error.message).toBe('mysql at a:1,b:2 is unavailable: denied for ***');
    expect(unavailable('redis', ['r:1'], 'plain text', []).message).toBe(
      'redis at r:1 is unavailable: plain text',
    );
  });

  it('re-throws a command error with its code and no driver fields', () => {
    const cause = Object.assign(new Error("near 'pw-12345'"), {
      code: 'ER_PARSE_ERROR',
      sql: "SET PASSWORD = 'pw-12345'",
    });
    const error = commandError('mysql', cause, ['pw-12345']);
    expect(error).toBeInstanceOf(EngineCommandError);
    expect(error.name).toBe('EngineCommandError');
    expect(error.message).toBe("mysql: near '***'");
    expect(error.code).toBe('ER_PARSE_ERROR');
    expect(error.engine).toBe('mysql');
    expect(Object.keys(error)).not.toContain('sql');
    expect(commandError('redis', null, []).message).toBe('redis: null');
    expect(commandError('redis', null, []).code).toBeUndefined();
  });

  describe('translateDriverError', () => {
    const never = () => false;
    const always = () => true;

    it('passes our own errors through untouched', () => {
      const down = new EngineUnavailableError('down');
      const refused = new EngineCommandError('pg', 'refused');
      expect(translateDriverError('pg', ['h:1'], down, [], never)).toBe(down);
      expect(translateDriverError('pg', ['h:1'], refused, [], always)).toBe(refused);
    });

    it('turns what the engine calls unreachable into EngineUnavailableError', () => {
      const error = translateDriverError(
        'pg',
        ['h:1'],
        new Error('ECONNREFUSED pw-9999'),
        ['pw-9999'],
        always,
      );
      expect(error).toBeInstanceOf(EngineUnavailableError);
      expect(error.message).toBe('pg at h:1 is unavailable: ECONNREFUSED ***');
    });

    it('turns anything else into EngineCommandError', () => {
      const error = translateDriverError(
        'pg',
        ['h:1'],
        new Error('syntax pw-9999'),
        ['pw-9999'],
        never,
      );
      expect(error).toBeInstanceOf(EngineCommandError);
      expect(error.message).toBe('pg: syntax ***');
    });
  });
});
