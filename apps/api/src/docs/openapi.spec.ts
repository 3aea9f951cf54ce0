import { serverOf, TAGS } from './openapi';

describe('OpenAPI servers and tags', () => {
  it('names DBAAS_PUBLIC_URL as the server when it is set', () => {
    expect(serverOf('https://dbaas.example.com')).toEqual({
      url: 'https://dbaas.example.com',
      description: expect.stringContaining('DBAAS_PUBLIC_URL'),
    });
  });

  it('names "/" (the host that served the document) otherwise', () => {
    expect(serverOf(null).url).toBe('/');
    expect(serverOf(undefined).url).toBe('/');
    expect(serverOf('').url).toBe('/');
  });

  it('lists each tag once, with a description, health last', () => {
    const names = TAGS.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names[0]).toBe('database');
    expect(names[names.length - 1]).toBe('health');
    for (const tag of TAGS) expect(tag.description.length).toBeGreaterThan(10);
  });
});
