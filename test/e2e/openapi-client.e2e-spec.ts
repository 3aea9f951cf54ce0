import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utcToday } from './support/dates';
import { startStack, TestStack } from './support/test-stack';

const ROOT = join(__dirname, '..', '..');
const bin = (pkg: string, path: string) => join(ROOT, 'node_modules', pkg, path);

function run(
  args: string[],
  env: Record<string, string> = {},
  cwd?: string,
): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, args, {
    encoding: 'utf8',
    timeout: 60_000,
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
}

/** The client program's own compiler settings: strict, Node 16 modules, generated types. */
const tsconfig = (files: string[]) => ({
  compilerOptions: {
    strict: true,
    target: 'ES2022',
    module: 'node16',
    moduleResolution: 'node16',
    outDir: 'out',
    skipLibCheck: true,
    types: ['node'],
    paths: { 'dbaas-openapi': ['./dbaas-openapi.d.ts'] },
  },
  files,
});

/**
 * A generated client, as a team would use one: types from openapi-typescript on the live
 * document, a program written with openapi-fetch, type-checked by tsc, then run against
 * the real app and a real PostgreSQL engine for a database's whole life.
 */
describe('generated OpenAPI client (e2e)', () => {
  let stack: TestStack;
  let dir: string;

  beforeAll(async () => {
    stack = await startStack();
    // Outside the repository, so the repo's tsconfig never sees it; node_modules linked in
    // so tsc and node resolve openapi-fetch and pg as an installed project would.
    dir = mkdtempSync(join(tmpdir(), 'dbaas-client-'));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const document = await stack.http.as(null).get('/api/docs-json');
    expect(document.status).toBe(200);
    writeFileSync(join(dir, 'openapi.json'), document.text);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('generates TypeScript types from /api/docs-json with openapi-typescript', () => {
    const generated = run([
      bin('openapi-typescript', 'bin/cli.js'),
      join(dir, 'openapi.json'),
      '-o',
      join(dir, 'dbaas-openapi.d.ts'),
    ]);
    expect(generated.status).toBe(0);
    const types = spawnSync('cat', [join(dir, 'dbaas-openapi.d.ts')], { encoding: 'utf8' }).stdout;
    expect(types).toContain('export interface paths');
    expect(types).toContain('"/api/database/{id}/restore"');
    expect(types).toMatch(
      /DatabaseListDto: \{[^}]*_links: components\["schemas"\]\["ListLinksDto"\]/,
    );
  });

  it('type-checks the openapi-fetch program against them, and rejects a wrong one', () => {
    copyFileSync(join(__dirname, 'client', 'workflow.ts'), join(dir, 'workflow.ts'));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig(['workflow.ts'])));
    const tsc = run([bin('typescript', 'bin/tsc'), '-p', dir]);
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);

    // Proof that the types are real: a typo in a path, a field or a body does not compile.
    writeFileSync(
      join(dir, 'wrong.ts'),
      [
        "import type { paths } from 'dbaas-openapi';",
        "import createClient from 'openapi-fetch';",
        'const api = createClient<paths>({});',
        "void api.GET('/api/databse');",
        "void api.POST('/api/database', { body: { name: 'x', plan: '/api/plan/1/' } });",
        "void api.GET('/api/plan/{id}', { params: { path: { id: 1 } } }).then((r) => r.data?.nmae);",
      ].join('\n'),
    );
    writeFileSync(join(dir, 'tsconfig.wrong.json'), JSON.stringify(tsconfig(['wrong.ts'])));
    const wrong = run([
      bin('typescript', 'bin/tsc'),
      '--noEmit',
      '-p',
      join(dir, 'tsconfig.wrong.json'),
    ]);
    expect(wrong.status).not.toBe(0);
    expect(wrong.stdout).toContain('wrong.ts(4,');
    expect(wrong.stdout).toMatch(/wrong\.ts\(5,.*environment/);
    expect(wrong.stdout).toMatch(/wrong\.ts\(6,.*nmae/);
  });

  it('runs the whole life of a database through the client against the real app', () => {
    const before = utcToday();
    const workflow = run([join(dir, 'out', 'workflow.js')], {
      DBAAS_URL: stack.api.baseUrl,
      DBAAS_LOGIN: 'admin:123456',
    });
    // The quarantine's date is the UTC day it ran: either end of the run when it spans midnight.
    const days = [before, utcToday()];
    expect(workflow.stderr).toBe('');
    expect(workflow.status).toBe(0);
    const steps = workflow.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { step: string; [key: string]: unknown });
    expect(steps.map((s) => s.step)).toEqual([
      'created',
      'connected',
      'password reset',
      'quarantined',
      'restored',
      'deleted',
      'listed',
    ]);
    expect(steps[0].endpoint).toMatch(
      new RegExp(`^postgresql://<user>:<password>@${stack.pg.address}/client_workflow_\\d+$`),
    );
    expect(days).toContain(steps[3].quarantine_dt);
    expect(steps[5]).toMatchObject({ status: 404, title: 'Not Found' });
  });

  /**
   * A second generator, of another school: openapi-typescript-codegen writes a class-based
   * fetch client (`DbaasClient`, one service per tag, models as types, errors as ApiError
   * with the documented description). Its program runs against the same app.
   */
  describe('with openapi-typescript-codegen', () => {
    let codegen: string;

    beforeAll(() => {
      codegen = join(dir, 'codegen');
      mkdirSync(codegen);
      symlinkSync(join(ROOT, 'node_modules'), join(codegen, 'node_modules'), 'dir');
    });

    it('generates a fetch client from the document, typed with integers and a boolean filter', () => {
      // The generator writes only below its working directory.
      const generated = run(
        [
          bin('openapi-typescript-codegen', 'bin/index.js'),
          '--input',
          join(dir, 'openapi.json'),
          '--output',
          'generated',
          '--client',
          'fetch',
          '--name',
          'DbaasClient',
          '--useUnionTypes',
        ],
        {},
        codegen,
      );
      expect(generated.stderr).toBe('');
      expect(generated.status).toBe(0);
      const read = (file: string) => readFileSync(join(codegen, 'generated', file), 'utf8');
      expect(read('DbaasClient.ts')).toContain('public readonly credential: CredentialService;');
      expect(read('models/CredentialWithPasswordDto.ts')).toMatch(/\buri: string;/);
      expect(read('models/ListLinksDto.ts')).toMatch(/\bcount: number;/);
      const database = read('services/DatabaseService.ts');
      expect(database).toMatch(/quarantine\?: boolean,/);
      // Each error carries its own description, which the client puts in ApiError.message.
      expect(database).toContain('404: `No such item, or one this user may not see.`');
      // The document's server `/` becomes a relative base that the program sets.
      expect(read('core/OpenAPI.ts')).toContain("BASE: '',");
    });

    it('type-checks the program and runs database, credential, uri and delete against the app', () => {
      copyFileSync(
        join(__dirname, 'client', 'codegen-workflow.ts'),
        join(codegen, 'codegen-workflow.ts'),
      );
      const config = {
        compilerOptions: {
          strict: true,
          target: 'ES2022',
          lib: ['ES2022', 'DOM'],
          module: 'commonjs',
          outDir: 'out',
          skipLibCheck: true,
          types: ['node'],
        },
        files: ['codegen-workflow.ts'],
      };
      writeFileSync(join(codegen, 'tsconfig.json'), JSON.stringify(config));
      const tsc = run([bin('typescript', 'bin/tsc'), '-p', codegen]);
      expect(tsc.stdout + tsc.stderr).toBe('');
      expect(tsc.status).toBe(0);

      const workflow = run([join(codegen, 'out', 'codegen-workflow.js')], {
        DBAAS_URL: stack.api.baseUrl,
        DBAAS_LOGIN: 'admin:123456',
      });
      expect(workflow.stderr).toBe('');
      expect(workflow.status).toBe(0);
      const steps = workflow.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { step: string; [key: string]: any });
      expect(steps.map((s) => s.step)).toEqual([
        'created database',
        'created credential',
        'connected with uri',
        'deleted credential',
        'deleted database',
      ]);
      const [database, credential, connected, deleted, quarantined] = steps;
      expect(database).toMatchObject({ id: expect.any(Number), status: 'ready' });
      expect(credential.privileges).toBe('read-only');
      // The uri logged in as the new user, on the new database, on the real engine.
      expect(connected).toEqual({
        step: 'connected with uri',
        user: credential.user,
        database: database.name,
      });
      expect(deleted).toEqual({
        step: 'deleted credential',
        status: 404,
        message: 'No such item, or one this user may not see.',
        type: 'https://dbaas.dev/problems/not-found',
      });
      expect(quarantined).toEqual({
        step: 'deleted database',
        quarantined: [database.id],
        live: 0,
        count: 1,
      });
    });
  });
});
