import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import type { Document } from 'mongodb';
import { ToolRun } from '../common/run-tool';
import { collector } from '../../../../test/harness';
import { InfraTarget } from '../engine-provider';
import { MongoDumpTool } from './mongo.dump-tool';
import { MongoClientLike, MongodbProvider } from './mongodb.provider';

/**
 * MongoDumpTool with the process runner faked: no MongoDB server and no MongoDB Database
 * Tools (mongodump, mongorestore) can be installed on these machines, so the exact command
 * lines, the password handling and the order of the steps are checked here, and the tool
 * stays unproven against a real server (docs/backups.md says so).
 */
describe('MongoDumpTool (process runner faked: no MongoDB here)', () => {
  const target: InfraTarget = {
    id: 3,
    addresses: ['m1:27017', 'm2:27018'],
    adminUser: 'root',
    adminPassword: 'admin "secret" pw',
  };
  let runs: { run: ToolRun; config: string; mode: number; input?: Buffer }[];
  let steps: string[];

  /** Runs nothing: keeps the run, the config file as it was during the run, and the input. */
  const fakeRun = (behaviour: { output?: Buffer; fail?: Error } = {}) =>
    jest.fn(async (run: ToolRun) => {
      steps.push(run.name);
      const configPath = run.args.find((a) => a.startsWith('--config='))!.slice(9);
      const entry: (typeof runs)[number] = {
        run,
        config: readFileSync(configPath, 'utf8'),
        mode: statSync(configPath).mode & 0o777,
      };
      runs.push(entry);
      if (run.input) {
        const parts: Buffer[] = [];
        for await (const part of run.input) parts.push(part as Buffer);
        entry.input = Buffer.concat(parts);
      }
      if (behaviour.fail) throw behaviour.fail;
      if (run.output) run.output.end(behaviour.output);
    });
  const configOf = (run: ToolRun) => run.args.find((a) => a.startsWith('--config='))!.slice(9);

  beforeAll(() => {
    console.warn(
      'MongoDumpTool is unit-tested only (process runner faked): no MongoDB server or mongodump/mongorestore can be installed here. Unproven against a real server.',
    );
  });
  beforeEach(() => {
    runs = [];
    steps = [];
  });

  it('dumps with mongodump --archive --db, the password in a 0600 config file removed after', async () => {
    const run = fakeRun({ output: Buffer.from('ARCHIVE') });
    const sut = new MongoDumpTool(async () => undefined, run);
    const out = collector();

    await sut.dump(target, 'shop', out.stream);

    expect(out.bytes().toString()).toBe('ARCHIVE');
    const [{ run: dump, config, mode }] = runs;
    expect(dump.command).toBe('/usr/bin/mongodump');
    expect(dump.args).toEqual([
      '--uri=mongodb://m1:27017,m2:27018/',
      '--authenticationDatabase=admin',
      '--username=root',
      `--config=${configOf(dump)}`,
      '--db=shop',
      '--archive',
    ]);
    expect(JSON.stringify([dump.args, dump.env])).not.toContain('secret');
    expect(dump.secrets).toEqual([target.adminPassword]);
    expect(config).toBe('password: "admin \\"secret\\" pw"\n');
    expect(mode).toBe(0o600);
    expect(existsSync(configOf(dump))).toBe(false);
  });

  it('restores after emptying the database, renaming the namespaces, with --drop', async () => {
    const run = fakeRun();
    const emptied: string[] = [];
    const sut = new MongoDumpTool(async (infra, db) => {
      expect(infra).toBe(target);
      emptied.push(db);
      steps.push('empty');
    }, run);

    await sut.restore(target, 'shop_copy', Readable.from([Buffer.from('ARCHIVE')]));

    expect(steps).toEqual(['empty', 'mongorestore']);
    expect(emptied).toEqual(['shop_copy']);
    const [{ run: restore, input }] = runs;
    expect(restore.command).toBe('/usr/bin/mongorestore');
    expect(restore.args.slice(4)).toEqual([
      '--archive',
      '--nsFrom=$db$.$coll$',
      '--nsTo=shop_copy.$coll$',
      '--drop',
      '--stopOnError',
    ]);
    expect(input?.toString()).toBe('ARCHIVE');
    expect(sut.atomicRestore).toBe(false);
    // The password is redacted from a failed restore's message, as from a dump's.
    expect(JSON.stringify([restore.args, restore.env])).not.toContain('secret');
    expect(restore.secrets).toEqual([target.adminPassword]);
    expect(existsSync(configOf(restore))).toBe(false);
    expect(existsSync(dirname(configOf(restore)))).toBe(false); // its folder too
  });

  it('fails with the tool, destroying the output; refuses names an option parser could misread', async () => {
    const failure = new Error('mongodump failed (exit code 1): auth error');
    const sut = new MongoDumpTool(async () => undefined, fakeRun({ fail: failure }));
    const out = collector();
    await expect(sut.dump(target, 'shop', out.stream)).rejects.toBe(failure);
    expect(out.stream.destroyed).toBe(true);
    expect(existsSync(configOf(runs[0].run))).toBe(false);

    await expect(sut.dump(target, '--host=evil', collector().stream)).rejects.toThrow(
      /Not a database name/,
    );
    await expect(sut.restore(target, 'a.b', Readable.from([]))).rejects.toThrow(
      /Not a database name/,
    );
    expect(runs).toHaveLength(1);
  });

  it('MongodbProvider.dumpTool empties with dropDatabase (sessions ended first), never dropping users', async () => {
    const commands: [string, Document][] = [];
    const client: MongoClientLike = {
      db: (name: string) => ({
        command: async (command: Document) => {
          commands.push([name, command]);
          steps.push(`${name}.${Object.keys(command)[0]}`);
          if ('usersInfo' in command) return { users: [{ user: 'u_shop' }], ok: 1 };
          return { ok: 1 };
        },
      }),
      close: async () => undefined,
    };
    const provider = new MongodbProvider(async () => client, fakeRun());

    await provider.dumpTool.restore(target, 'shop', Readable.from([Buffer.from('ARCHIVE')]));

    expect(steps).toEqual([
      'shop.usersInfo',
      'admin.killAllSessionsByPattern',
      'shop.dropDatabase',
      'mongorestore',
    ]);
    expect(commands[1][1]).toEqual({
      killAllSessionsByPattern: [{ users: [{ user: 'u_shop', db: 'shop' }] }],
    });
    await provider.close();
  });
});
