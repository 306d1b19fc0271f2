import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FileCache } from '../../src/storage/file-cache.js';

const bytes = (length: number, fill = 1) => Buffer.alloc(length, fill);

/** A read() for load() that counts its calls and streams `chunks`. */
function countingRead(chunks: Buffer[]) {
  const reader = {
    calls: 0,
    streams: [] as Readable[],
    read: async () => {
      reader.calls++;
      // Yield first, so that concurrent loads really overlap.
      await new Promise((resolve) => setImmediate(resolve));
      const stream = Readable.from(chunks);
      reader.streams.push(stream);
      return stream;
    },
  };
  return reader;
}

describe('FileCache', () => {
  it('gets what was set, and counts entries and bytes', () => {
    const cache = new FileCache({ maxBytes: 100 });
    const buf = bytes(10);
    cache.set('a', buf);
    expect(cache.get('a')).toBe(buf);
    expect(cache.get('missing')).toBeUndefined();
    expect(cache.count).toBe(1);
    expect(cache.size).toBe(10);
  });

  it('replacing a key counts its bytes once', () => {
    const cache = new FileCache({ maxBytes: 100, maxEntryBytes: 50 });
    cache.set('a', bytes(10));
    cache.set('a', bytes(30));
    expect(cache.count).toBe(1);
    expect(cache.size).toBe(30);
  });

  it('deletes', () => {
    const cache = new FileCache({ maxBytes: 100 });
    cache.set('a', bytes(10));
    cache.delete('a');
    cache.delete('never-there');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.count).toBe(0);
  });

  it('evicts the least recently used first, a get counting as a use', () => {
    const cache = new FileCache({ maxBytes: 30, maxEntryBytes: 10 });
    cache.set('a', bytes(10));
    cache.set('b', bytes(10));
    cache.set('c', bytes(10));
    cache.get('a'); // now b is the oldest
    cache.set('d', bytes(10));
    expect(cache.get('b')).toBeUndefined();
    cache.set('e', bytes(10)); // then c
    expect(cache.get('c')).toBeUndefined();
    expect(['a', 'd', 'e'].every((key) => cache.get(key) !== undefined)).toBe(true);
    expect(cache.size).toBe(30);
  });

  it('evicts as many entries as a new one needs', () => {
    const cache = new FileCache({ maxBytes: 30, maxEntryBytes: 30 });
    cache.set('a', bytes(10));
    cache.set('b', bytes(10));
    cache.set('c', bytes(10));
    cache.set('big', bytes(25));
    expect(cache.count).toBe(1);
    expect(cache.size).toBe(25);
  });

  it('never holds more than maxBytes, and its size is the sum of what it holds', () => {
    const cache = new FileCache({ maxBytes: 1000, maxEntryBytes: 200 });
    const held = new Map<string, number>();
    // Deterministic pseudo-random sizes and keys.
    let seed = 42;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    for (let i = 0; i < 2000; i++) {
      const key = `k${next() % 40}`;
      const buf = bytes(next() % 250);
      cache.set(key, buf);
      expect(cache.size).toBeLessThanOrEqual(1000);
      held.set(key, buf.length);
    }
    let sum = 0;
    for (const [key, length] of held) {
      const got = cache.get(key);
      if (got !== undefined) {
        expect(got.length).toBe(length);
        sum += length;
      }
    }
    expect(cache.size).toBe(sum);
  });

  it('ignores an entry over maxEntryBytes, dropping an older value of that key', () => {
    const cache = new FileCache({ maxBytes: 100, maxEntryBytes: 20 });
    cache.set('a', bytes(10));
    cache.set('a', bytes(21));
    cache.set('b', bytes(21));
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('caches nothing when maxBytes is 0', async () => {
    const cache = new FileCache({ maxBytes: 0 });
    cache.set('a', bytes(0));
    expect(cache.count).toBe(0);
    const reader = countingRead([bytes(1)]);
    expect(await cache.load('a', 1, reader.read)).toBeUndefined();
    expect(reader.calls).toBe(0);
  });

  it('defaults maxEntryBytes to an eighth of maxBytes, capped at 8 MiB', () => {
    expect(new FileCache({ maxBytes: 800 }).maxEntryBytes).toBe(100);
    expect(new FileCache({ maxBytes: 1024 ** 3 }).maxEntryBytes).toBe(8 * 1024 ** 2);
  });

  it('refuses sizes that are negative or not integers', () => {
    expect(() => new FileCache({ maxBytes: -1 })).toThrow(RangeError);
    expect(() => new FileCache({ maxBytes: 10, maxEntryBytes: 1.5 })).toThrow(RangeError);
  });

  describe('load', () => {
    const chunks = [bytes(5, 1), bytes(7, 2), bytes(3, 3)];
    const whole = Buffer.concat(chunks);

    it('reads a stream of many chunks into one buffer and caches it', async () => {
      const cache = new FileCache({ maxBytes: 1000 });
      const reader = countingRead(chunks);
      const got = await cache.load('k', whole.length, reader.read);
      expect(got?.equals(whole)).toBe(true);
      expect(cache.get('k')).toBe(got);
      expect(await cache.load('k', whole.length, reader.read)).toBe(got);
      expect(reader.calls).toBe(1);
    });

    it('shares one read among concurrent loads of a key', async () => {
      const cache = new FileCache({ maxBytes: 1000 });
      const reader = countingRead(chunks);
      const loads = await Promise.all(Array.from({ length: 20 }, () => cache.load('k', whole.length, reader.read)));
      expect(reader.calls).toBe(1);
      expect(loads.every((buf) => buf === loads[0] && buf?.equals(whole))).toBe(true);
      expect(cache.count).toBe(1);
    });

    it('resolves undefined without reading when the object is too big to cache', async () => {
      const cache = new FileCache({ maxBytes: 100, maxEntryBytes: 10 });
      const reader = countingRead(chunks);
      expect(await cache.load('k', whole.length, reader.read)).toBeUndefined();
      expect(reader.calls).toBe(0);
      expect(cache.count).toBe(0);
    });

    it('rejects and caches nothing when the stream is shorter than the size', async () => {
      const cache = new FileCache({ maxBytes: 1000 });
      const reader = countingRead(chunks);
      await expect(cache.load('k', whole.length + 1, reader.read)).rejects.toThrow(/only 15/);
      expect(cache.count).toBe(0);
      // Not stuck on the failed load: the next one reads again.
      await expect(cache.load('k', whole.length, reader.read)).resolves.toBeDefined();
      expect(reader.calls).toBe(2);
    });

    it('rejects, caches nothing and stops reading when the stream is longer', async () => {
      const cache = new FileCache({ maxBytes: 1000 });
      const reader = countingRead(chunks);
      await expect(cache.load('k', whole.length - 1, reader.read)).rejects.toThrow(/more/);
      expect(cache.count).toBe(0);
      expect(reader.streams[0]?.destroyed).toBe(true);
    });

    it('passes on a failed read to every waiter, then tries again next time', async () => {
      const cache = new FileCache({ maxBytes: 1000 });
      let calls = 0;
      const failing = async (): Promise<Readable> => {
        calls++;
        await new Promise((resolve) => setImmediate(resolve));
        throw Object.assign(new Error('gone'), { code: 'ENOENT' });
      };
      const loads = [cache.load('k', 1, failing), cache.load('k', 1, failing)];
      for (const load of loads) await expect(load).rejects.toMatchObject({ code: 'ENOENT' });
      expect(calls).toBe(1);
      await expect(cache.load('k', 1, failing)).rejects.toThrow('gone');
      expect(calls).toBe(2);
    });

    it('turns a read() that throws synchronously into a rejection', async () => {
      const cache = new FileCache({ maxBytes: 1000 });
      const read = (): Promise<Readable> => {
        throw new Error('bad key');
      };
      await expect(cache.load('k', 1, read)).rejects.toThrow('bad key');
      await expect(cache.load('k', 1, read)).rejects.toThrow('bad key');
    });

    it('does not cache a load that a delete() overtook', async () => {
      const cache = new FileCache({ maxBytes: 1000 });
      const reader = countingRead(chunks);
      const load = cache.load('k', whole.length, reader.read);
      cache.delete('k');
      expect((await load)?.equals(whole)).toBe(true);
      expect(cache.get('k')).toBeUndefined();
    });
  });
});
