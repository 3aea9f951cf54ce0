import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utcToday } from './support/dates';
import { startStack, TestStack } from './support/test-stack';

const ROOT = join(__dirname, '..', '..');
const bin = (pkg: string, path: string) => join(ROOT, 'node_modules', pkg, path);

function run(args: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, args, {
    encoding: 'utf8',
    timeout: 60_000,
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
});
