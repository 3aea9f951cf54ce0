import { EngineProvider, EngineRegistry, createEngineProviders } from '@dbaas/engines';

describe('EngineRegistry', () => {
  const fake = (type: string) =>
    ({ type, close: jest.fn(async () => undefined) }) as unknown as jest.Mocked<EngineProvider>;

  it('registers the four engines', () => {
    const sut = new EngineRegistry(createEngineProviders());
    expect(
      sut
        .all()
        .map((p) => p.type)
        .sort(),
    ).toEqual(['mongodb', 'mysql', 'postgresql', 'redis']);
    expect(sut.get('redis').type).toBe('redis');
    expect(sut.types()).toEqual(['postgresql', 'mysql', 'mongodb', 'redis']);
    expect(sut.find('mysql')?.type).toBe('mysql');
    expect(sut.find('oracle')).toBeUndefined();
  });

  it('fails loudly for an unknown type and for a duplicate registration', () => {
    const sut = new EngineRegistry([fake('postgresql'), fake('redis')]);
    expect(() => sut.get('mysql')).toThrow(
      new Error('No engine provider for "mysql" (known: postgresql, redis)'),
    );
    expect(() => new EngineRegistry([fake('redis'), fake('redis')])).toThrow(
      /Two engine providers/,
    );
    expect(() => new EngineRegistry([fake('')])).toThrow(/An engine provider has no type/);
  });

  it('closes every provider at shutdown', async () => {
    const providers = [fake('postgresql'), fake('redis')];
    await new EngineRegistry(providers).onApplicationShutdown();
    for (const p of providers) expect(p.close).toHaveBeenCalled();
  });
});
