import { PassThrough, Readable } from 'node:stream';
import { InfraTarget } from '../engine-provider';
import {
  adminAddress,
  assertPlainName,
  BackupCorruptError,
  BackupToolError,
  holdErrors,
  withPrefix,
} from './dump-tool';

const target = (addresses: string[]): InfraTarget => ({
  id: 1,
  addresses,
  adminUser: 'admin',
  adminPassword: 'pw',
});

async function readAll(stream: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.from(part as Buffer));
  return Buffer.concat(parts).toString();
}

const nextTick = () => new Promise((resolve) => setImmediate(resolve));

describe('dump tool helpers', () => {
  it('names its errors (clone.service.ts tells a tool failure by its name)', () => {
    expect(new BackupToolError('x').name).toBe('BackupToolError');
    expect(new BackupCorruptError('x').name).toBe('BackupCorruptError');
  });

  it('adminAddress: the first address of the infra, with the default port when it names none', () => {
    expect(adminAddress(target(['db1:6000', 'db2:7000']), 5432)).toEqual({
      host: 'db1',
      port: 6000,
    });
    expect(adminAddress(target(['db1']), 5432)).toEqual({ host: 'db1', port: 5432 });
    expect(adminAddress(target([]), 5432)).toEqual({ host: '', port: 5432 });
  });

  it.each(['shop', 'a', '_x', '9lives', 'a$b-c_D', 'x'.repeat(63)])(
    'assertPlainName accepts %s',
    (name) => {
      expect(assertPlainName(name)).toBe(name);
    },
  );

  it.each([
    ['nothing', ''],
    ['an option', '--host=evil'],
    ['a leading dash', '-x'],
    ['a leading $', '$db'],
    ['a dot (a namespace)', 'a.b'],
    ['a slash', 'a/b'],
    ['a space', 'a b'],
    ['a quote', "a'b"],
    ['a line break at the end', 'shop\n'],
    ['a line break at the start', '\nshop'],
    ['64 characters', 'x'.repeat(64)],
  ])('assertPlainName refuses %s', (_, name) => {
    expect(() => assertPlainName(name)).toThrow(
      `Not a database name the dump tools accept: ${JSON.stringify(name)}`,
    );
  });

  it('holdErrors: an error of the input before anyone reads it does not crash, and stays in errored', async () => {
    const input = new PassThrough();
    expect(holdErrors(input)).toBe(input);
    input.destroy(new Error('chunk 1 fails authentication'));
    await nextTick();
    expect(input.errored?.message).toBe('chunk 1 fails authentication');
  });

  it('withPrefix: the prefix, then everything the input sends', async () => {
    const input = Readable.from([Buffer.from('one '), Buffer.from('two')]);
    expect(await readAll(withPrefix('DROP; ', input))).toBe('DROP; one two');
  });

  it('withPrefix: an error of the input destroys the result with it, before or after the call', async () => {
    const failing = new PassThrough();
    const combined = withPrefix('P', failing);
    failing.destroy(new Error('chunk 2 fails authentication'));
    await expect(readAll(combined)).rejects.toThrow('chunk 2 fails authentication');

    const failed = new PassThrough();
    failed.on('error', () => undefined);
    failed.destroy(new Error('chunk 1 fails authentication'));
    await nextTick();
    await expect(readAll(withPrefix('P', failed))).rejects.toThrow('chunk 1 fails authentication');
  });

  it('withPrefix: the result closed early (the tool failed) destroys the input', async () => {
    const input = new PassThrough();
    const combined = withPrefix('P', input);
    input.write('some');
    combined.destroy();
    await nextTick();
    expect(input.destroyed).toBe(true);
  });
});
