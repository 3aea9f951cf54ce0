import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import { API_NODE_FLAGS } from '../e2e/support/api-process';

const ROOT = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions with line continuations joined and comments dropped. */
function instructions(text: string): Instruction[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

/**
 * The deployment files, checked the way hadolint and `docker compose config` would: these
 * machines have a docker client but no daemon, so nothing here is built or started.
 */
describe('Dockerfile', () => {
  const all = instructions(read('Dockerfile'));
  const args = Object.fromEntries(
    all
      .filter((i) => i.keyword === 'ARG' && i.args.includes('='))
      .map((i) => i.args.split('=') as [string, string]),
  );
  const stages: Instruction[][] = [];
  for (const instruction of all) {
    if (instruction.keyword === 'FROM') stages.push([]);
    stages[stages.length - 1]?.push(instruction);
  }
  const final = stages[stages.length - 1];
  const image = (from: Instruction) =>
    from.args.split(/\s+/)[0].replace(/\$\{(\w+)\}/g, (_, name: string) => args[name] ?? '');

  it('is multi-stage, both stages on a pinned node:24-bookworm-slim, an LTS major (never latest)', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) {
      expect(image(stage[0])).toBe('node:24-bookworm-slim');
      expect(image(stage[0])).not.toMatch(/:latest$|^[^:]+$/);
    }
    expect(stages[0][0].args).toMatch(/ AS build$/i);
  });

  it('builds with npm ci and nest, then drops the dev dependencies', () => {
    const build = stages[0].filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(build.join('\n')).toMatch(/npm ci\b/);
    expect(build.join('\n')).toMatch(/nest build api/);
    expect(build.join('\n')).toMatch(/npm prune --omit=dev/);
    expect(all.filter((i) => i.keyword === 'ADD')).toEqual([]);
    // Every COPY source from the context exists and is not dropped by .dockerignore.
    const ignored = read('.dockerignore')
      .split('\n')
      .filter((line) => line && !line.startsWith('#'));
    for (const copy of all.filter((i) => i.keyword === 'COPY' && !i.args.includes('--from'))) {
      const sources = copy.args
        .split(/\s+/)
        .filter((a) => !a.startsWith('--'))
        .slice(0, -1);
      for (const source of sources) {
        expect([source, existsSync(join(ROOT, source))]).toEqual([source, true]);
        expect(ignored).not.toContain(source.replace(/^\.\//, ''));
      }
    }
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.env', '.git']));
  });

  it('has the dump tools the backups run, installed the lean way (Debian packages, no cache)', () => {
    const runs = final.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    const install = runs.find((run) => /apt-get install/.test(run));
    expect(install).toBeDefined();
    expect(install).toMatch(/apt-get update/);
    expect(install).toMatch(/--no-install-recommends/);
    expect(install).toMatch(/\bpostgresql-client-16\b/); // pg_dump, pg_restore, psql
    // The compose file's PostgreSQL server has a client of its major (or a newer one).
    const major = Number(/image: postgres:(\d+)/.exec(read('docker-compose.yml'))?.[1]);
    expect(major).toBeGreaterThan(0);
    const clients = [...install!.matchAll(/postgresql-client-(\d+)/g)].map((m) => Number(m[1]));
    expect(clients.some((client) => client >= major)).toBe(true);
    expect(install).toMatch(/\bmariadb-client\b/); // mariadb-dump, mariadb
    expect(install).toMatch(/rm -rf \/var\/lib\/apt\/lists/);
    // Installed as root, before the image switches to its unprivileged user.
    expect(final.indexOf(final.find((i) => i.args === install)!)).toBeLessThan(
      final.findIndex((i) => i.keyword === 'USER'),
    );
  });

  it('runs the built API as a non-root user, with the CLI on the PATH', () => {
    const users = final.filter((i) => i.keyword === 'USER').map((i) => i.args);
    expect(users.length).toBeGreaterThan(0);
    expect(users[users.length - 1]).not.toMatch(/^(root|0)(:|$)/);
    const cmd = JSON.parse(final.find((i) => i.keyword === 'CMD')!.args) as string[];
    // The same command as `npm start`, heap settings included.
    expect(cmd).toEqual(['node', ...API_NODE_FLAGS, 'dist/apps/api/src/main.js']);
    expect(API_NODE_FLAGS).toContain('--max-old-space-size=256');
    const nest = JSON.parse(read('nest-cli.json'));
    expect(`dist/${nest.projects.api.entryFile}.js`).toBe(cmd.at(-1));
    const pkg = JSON.parse(read('package.json'));
    expect(final.map((i) => i.args).join('\n')).toContain(pkg.bin.dbaas);
    // The bin runs without `node` in front of it only with its shebang.
    expect(read('apps/cli/src/main.ts').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  describe('HEALTHCHECK', () => {
    const healthcheck = final.find((i) => i.keyword === 'HEALTHCHECK')!;
    const command = JSON.parse(healthcheck.args.replace(/^.*?CMD\s+/, '')) as string[];
    let server: Server;
    let status = 200;

    beforeAll(async () => {
      server = createServer((request, response) => {
        response.statusCode = request.url === '/health' ? status : 404;
        response.end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(() => new Promise((resolve) => server.close(resolve)));

    // Asynchronous: the fake /health server lives in this process's event loop.
    const probe = (port = String((server.address() as AddressInfo).port)) =>
      new Promise<number | null>((resolve) =>
        execFile(
          process.execPath,
          command.slice(1),
          { env: { PORT: port }, timeout: 10_000 },
          (error) => resolve(error ? (typeof error.code === 'number' ? error.code : null) : 0),
        ),
      );

    it('is set, with a start period, in exec form', () => {
      expect(healthcheck.args).toMatch(/--start-period=\d+s/);
      expect(command[0]).toBe('node');
    });

    it('passes while /health answers 200 and fails on 503 or nothing listening', async () => {
      status = 200;
      expect(await probe()).toBe(0);
      status = 503;
      expect(await probe()).toBe(1);
      expect(await probe('9')).toBe(1);
    });
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as {
    services: Record<string, any>;
    volumes: Record<string, unknown>;
  };
  const services = compose.services;

  it('has the API, its metadata PostgreSQL and the four engines', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['api', 'mariadb', 'metadata', 'mongodb', 'postgresql', 'redis', 'reset-data'].sort(),
    );
    for (const [name, service] of Object.entries(services)) {
      if (service.build) continue;
      expect([name, service.image]).toEqual([name, expect.stringMatching(/^[\w./-]+:[\w.-]+$/)]);
      expect(service.image).not.toMatch(/:latest$/);
    }
  });

  it('runs the API from the Dockerfile on the metadata store, with secrets from .env', () => {
    const api = services.api;
    expect(api.build).toBe('.');
    expect(api.depends_on.metadata.condition).toBe('service_healthy');
    expect(api.environment.DATABASE_URL).toMatch(
      /^postgresql:\/\/dbaas:\$\{[A-Z_]+:\?[^}]+\}@metadata:5432\/dbaas$/,
    );
    expect(api.environment.DBAAS_SECRET_KEY).toMatch(/^\$\{DBAAS_SECRET_KEY:\?/);
    expect(api.ports).toEqual(['${DBAAS_PORT:-8000}:8000']);
  });

  it('registers the engines with a one-shot reset-data of the same image, never on `up`', () => {
    const reset = services['reset-data'];
    expect(reset.image).toBe(services.api.image);
    expect(reset.command).toEqual(['node', 'dist/apps/cli/src/main.js', 'reset-data']);
    expect(reset.profiles).toEqual(['setup']);
    expect(reset.restart).toBe('no');
    expect(reset.environment.DATABASE_URL).toBe(services.api.environment.DATABASE_URL);
    const engines: Record<string, [string, string, number]> = {
      POSTGRESQL: ['postgresql:', 'postgresql', 5432],
      MYSQL: ['mysql:', 'mariadb', 3306],
      MONGODB: ['mongodb:', 'mongodb', 27017],
      REDIS: ['redis:', 'redis', 6379],
    };
    for (const [engine, [protocol, host, port]] of Object.entries(engines)) {
      // Compose fills `${ENGINE_PASSWORD...}` in from .env; a stand-in value makes it a URL.
      const url = new URL(
        reset.environment[`DBAAS_SAMPLE_${engine}_URL`].replace(/\$\{(\w+)[^}]*\}/g, 'from-$1'),
      );
      expect([engine, url.protocol, url.hostname, Number(url.port)]).toEqual([
        engine,
        protocol,
        host,
        port,
      ]);
      expect(url.username).not.toBe('');
      expect(url.password).toBe('from-ENGINE_PASSWORD');
      expect(reset.depends_on[host].condition).toBe('service_healthy');
    }
  });

  it('gives every service that others wait for a healthcheck, and every engine a volume', () => {
    for (const service of Object.values(services))
      for (const dependency of Object.keys(service.depends_on ?? {}))
        expect([dependency, services[dependency].healthcheck?.test]).toEqual([
          dependency,
          expect.any(Array),
        ]);
    for (const name of ['metadata', 'postgresql', 'mariadb', 'mongodb', 'redis'])
      expect(services[name].volumes[0].split(':')[0]).toBe(name);
    expect(Object.keys(compose.volumes).sort()).toEqual(
      ['mariadb', 'metadata', 'mongodb', 'postgresql', 'redis'].sort(),
    );
  });

  it('documents in deploy/env.example every variable it reads', () => {
    const used = new Set(
      [...read('docker-compose.yml').matchAll(/(?<!\$)\$\{(\w+)/g)].map((m) => m[1]),
    );
    const documented = read('deploy/env.example')
      .split('\n')
      .filter((line) => /^\w+=/.test(line))
      .map((line) => line.split('=')[0]);
    expect([...used].filter((name) => !documented.includes(name))).toEqual([]);
  });

  const compose_ = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  // These machines have the docker client without the compose plugin; where it exists,
  // compose's own parser must accept the file too.
  if (compose_.status !== 0) {
    console.warn(
      'Skipped "is accepted by `docker compose config`": no docker compose plugin on this machine.',
    );
  }
  (compose_.status === 0 ? it : it.skip)('is accepted by `docker compose config`', () => {
    const config = spawnSync('docker', ['compose', '-f', 'docker-compose.yml', 'config', '-q'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: {
        ...process.env,
        DBAAS_SECRET_KEY: '0'.repeat(64),
        METADATA_PASSWORD: 'x',
        ENGINE_PASSWORD: 'y',
      },
    });
    expect(config.stderr).toBe('');
    expect(config.status).toBe(0);
  });
});
