import { EngineUnavailableError } from '@dbaas/core';
import { EngineCommandError } from './common/engine-errors';
import { EngineMetrics, failureReason } from './engine-metrics';
import { EngineProvider, InfraTarget } from './engine-provider';
import { EngineRegistry } from './engine-registry';

const infra: InfraTarget = {
  id: 1,
  addresses: ['h:1'],
  adminUser: 'a',
  adminPassword: 'secret-pw',
};

class FakeProvider {
  readonly type = 'postgresql';
  calls = 0;
  async ping() {
    this.calls++;
    return { version: '15.1' };
  }
  async createDatabase(_infra: InfraTarget, name: string) {
    if (name === 'down') throw new EngineUnavailableError('down');
    if (name === 'refused') throw new EngineCommandError('postgresql', 'no');
    await this.ping(); // an inner call is not counted twice
  }
  endpoint() {
    return 'postgresql://<user>:<password>@h:1/db';
  }
}

describe('EngineMetrics', () => {
  const count = async (sut: EngineMetrics, name: string, labels: Record<string, string>) =>
    (await sut.registry.getSingleMetric(name)!.get()).values
      .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
      .reduce((sum, v) => sum + v.value, 0);

  it('times successful operations by engine and operation, and keeps the provider as it is', async () => {
    const sut = new EngineMetrics();
    const provider = new FakeProvider();
    const timed = sut.instrument(provider as unknown as EngineProvider);
    expect(timed.type).toBe('postgresql');
    expect(timed.endpoint(infra.addresses, 'db')).toContain('h:1');
    expect(timed).toBeInstanceOf(FakeProvider);
    await expect(timed.ping(infra)).resolves.toEqual({ version: '15.1' });
    await timed.createDatabase(infra, 'ok');
    expect(provider.calls).toBe(2);
    const histogram = 'dbaas_engine_operation_duration_seconds_count';
    expect(
      await count(sut, histogram.replace(/_count$/, ''), {
        engine: 'postgresql',
        operation: 'ping',
        outcome: 'success',
      }),
    ).toBeGreaterThan(0);
    const text = await sut.registry.metrics();
    expect(text).toContain(
      `${histogram}{engine="postgresql",operation="ping",outcome="success"} 1`,
    );
    expect(text).toContain(
      `${histogram}{engine="postgresql",operation="createDatabase",outcome="success"} 1`,
    );
  });

  it('counts failures by reason and rethrows the same error', async () => {
    const sut = new EngineMetrics();
    const timed = sut.instrument(new FakeProvider() as unknown as EngineProvider);
    await expect(timed.createDatabase(infra, 'down')).rejects.toBeInstanceOf(
      EngineUnavailableError,
    );
    await expect(timed.createDatabase(infra, 'refused')).rejects.toBeInstanceOf(EngineCommandError);
    const errors = 'dbaas_engine_operation_errors_total';
    expect(await count(sut, errors, { operation: 'createDatabase', reason: 'unavailable' })).toBe(
      1,
    );
    expect(await count(sut, errors, { operation: 'createDatabase', reason: 'refused' })).toBe(1);
    // A failure is timed too, under its own outcome.
    expect(await sut.registry.metrics()).toContain(
      'dbaas_engine_operation_duration_seconds_count{engine="postgresql",operation="createDatabase",outcome="error"} 2',
    );
    expect(await sut.registry.metrics()).not.toContain('secret-pw');
  });

  it('times into buckets from 5 ms to 10 s', async () => {
    const sut = new EngineMetrics();
    await sut.instrument(new FakeProvider() as unknown as EngineProvider).ping(infra);
    const buckets = (
      await sut.registry.getSingleMetric('dbaas_engine_operation_duration_seconds')!.get()
    ).values
      .filter((v) => v.labels.le !== undefined)
      .map((v) => v.labels.le);
    expect(buckets).toEqual([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, '+Inf']);
  });

  it('leaves an operation the provider does not have undefined, and other properties as they are', () => {
    const provider = new FakeProvider() as unknown as EngineProvider & { calls: number };
    const timed = new EngineMetrics().instrument(provider);
    expect(timed.dropUser).toBeUndefined();
    expect(timed.calls).toBe(0);
  });

  it('is applied by the registry to every provider it hands out', async () => {
    const sut = new EngineMetrics();
    const registry = new EngineRegistry([new FakeProvider() as unknown as EngineProvider], sut);
    await registry.get('postgresql').ping(infra);
    expect(await sut.registry.metrics()).toContain('operation="ping"');
  });

  it('labels a failure that is neither unavailable nor refused as error', () => {
    expect(failureReason(new EngineUnavailableError('down'))).toBe('unavailable');
    expect(failureReason(new EngineCommandError('postgresql', 'no'))).toBe('refused');
    expect(failureReason(new TypeError('bug'))).toBe('error');
    expect(failureReason('a string')).toBe('error');
  });
});
