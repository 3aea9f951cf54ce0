import { ByteQueue } from './byte-queue';

const bytes = (text: string) => Buffer.from(text, 'ascii');

describe('ByteQueue', () => {
  it('counts what was pushed and not taken yet', () => {
    const queue = new ByteQueue();
    expect(queue.length).toBe(0);
    queue.push(bytes('abc'));
    queue.push(bytes('de'));
    expect(queue.length).toBe(5);
    queue.take(2);
    expect(queue.length).toBe(3);
    queue.take(3);
    expect(queue.length).toBe(0);
  });

  it('takes from the front, across pieces and from the middle of one', () => {
    const queue = new ByteQueue();
    queue.push(bytes('abc'));
    queue.push(bytes('defg'));
    queue.push(bytes('h'));
    expect(queue.take(2).toString()).toBe('ab');
    expect(queue.take(3).toString()).toBe('cde');
    expect(queue.take(1).toString()).toBe('f');
    expect(queue.take(2).toString()).toBe('gh');
  });

  it('gives all it holds when asked for more, and nothing from an empty queue', () => {
    const queue = new ByteQueue();
    queue.push(bytes('ab'));
    queue.push(bytes('c'));
    expect(queue.take(10).toString()).toBe('abc');
    expect(queue.length).toBe(0);
    expect(queue.take(4)).toHaveLength(0);
  });

  it('hands over a whole first piece without copying it', () => {
    const queue = new ByteQueue();
    const first = bytes('abc');
    queue.push(first);
    queue.push(bytes('de'));
    expect(queue.take(3)).toBe(first);
    expect(queue.length).toBe(2);
    expect(queue.take(2).toString()).toBe('de');
  });

  it('keeps no empty piece: an empty push changes nothing', () => {
    const queue = new ByteQueue();
    queue.push(Buffer.alloc(0));
    const piece = bytes('xy');
    queue.push(piece);
    expect(queue.length).toBe(2);
    expect(queue.take(2)).toBe(piece); // the first piece is this one, not an empty one
  });
});
