import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

/** semver is npm's own range logic; it ships no types, so these are the four calls used. */
const { intersects, satisfies, subset, validRange } = createRequire(__filename)('semver') as {
  intersects(a: string, b: string): boolean;
  satisfies(version: string, range: string): boolean;
  subset(sub: string, dom: string): boolean;
  validRange(range: string): string | null;
};

const ROOT = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

interface LockedPackage {
  version?: string;
  engines?: { node?: string } | string[];
}

/**
 * `npm install` warns EBADENGINE when the running Node is outside a locked package's
 * `engines.node`. Checked here against the lockfile, without downloading any Node: every
 * version the project's own `engines` admits must satisfy every locked package.
 */
describe('supported Node versions (package.json engines)', () => {
  const manifest = JSON.parse(read('package.json')) as { engines: { node: string } };
  const supported = manifest.engines.node;
  const lock = JSON.parse(read('package-lock.json')) as {
    packages: Record<string, LockedPackage>;
  };

  it('admits the LTS lines 20, 22 and 24, and no odd (never LTS) line', () => {
    expect(validRange(supported)).not.toBeNull();
    for (const major of [20, 22, 24]) expect(intersects(supported, `${major}.x`)).toBe(true);
    for (const major of [19, 21, 23]) expect(intersects(supported, `${major}.x`)).toBe(false);
  });

  it('is within the engines of every locked package (no EBADENGINE on a supported version)', () => {
    const offenders: string[] = [];
    for (const [path, pkg] of Object.entries(lock.packages)) {
      const wanted = Array.isArray(pkg.engines) ? undefined : pkg.engines?.node;
      if (!path || !wanted) continue;
      if (!subset(supported, wanted))
        offenders.push(`${path.replace(/^.*node_modules\//, '')}@${pkg.version} wants ${wanted}`);
    }
    expect(offenders).toEqual([]);
  });

  it('has .nvmrc and the Docker image on a supported LTS major', () => {
    const nvmrc = read('.nvmrc').trim();
    expect(nvmrc).toMatch(/^\d+$/);
    expect(intersects(supported, `${nvmrc}.x`)).toBe(true);
    const image = /^ARG NODE_IMAGE=node:(\d+)-/m.exec(read('Dockerfile'));
    expect(image).not.toBeNull();
    // The image's newest release of that major is what `docker build` gets.
    expect(satisfies(`${image![1]}.99.0`, supported)).toBe(true);
    expect(Number(image![1]) % 2).toBe(0);
  });
});
