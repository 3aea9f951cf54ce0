import { sizeLimitAction } from './size-limit';

describe('sizeLimitAction', () => {
  const MiB = 1024 * 1024;

  it.each([
    // limit, used, marked over now, what to do
    [MiB, MiB + 1, false, 'restrict_writes'],
    [MiB, MiB + 1, true, null],
    [MiB, MiB, false, null],
    [MiB, MiB, true, 'allow_writes'],
    [MiB, 0, true, 'allow_writes'],
    [MiB, 10, false, null],
    [MiB, null, false, null],
    [MiB, null, true, null],
    [0, 50 * MiB, false, null],
    [0, 50 * MiB, true, 'allow_writes'],
    [0, null, true, 'allow_writes'],
  ] as const)('limit %p, used %p, over %p: %p', (limit, used, over, expected) => {
    expect(sizeLimitAction(limit, used, over)).toBe(expected);
  });
});
