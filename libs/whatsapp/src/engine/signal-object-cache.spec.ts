import { SignalObjectCache } from './signal-object-cache';

describe('SignalObjectCache', () => {
  it('returns what was stored, the same object', () => {
    const cache = new SignalObjectCache();
    const record = { chains: { a: 1 } };
    cache.set('session.1', record);
    expect(cache.get('session.1')).toBe(record);
    expect(cache.get('session.2')).toBeUndefined();
  });

  it('drops the least recently used entry beyond its capacity', () => {
    const cache = new SignalObjectCache({ capacity: 2 });
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now the most recently used
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
    expect(cache.size).toBe(2);
  });

  it('reads an entry older than its time to live as a miss and forgets it', () => {
    let now = 1_000;
    const cache = new SignalObjectCache({ ttlMs: 100, now: () => now });
    cache.set('a', 1);
    now += 99;
    expect(cache.get('a')).toBe(1);
    now += 1;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('deletes one entry or all of them', () => {
    const cache = new SignalObjectCache();
    cache.set('a', 1);
    cache.set('b', 2);
    cache.del('a');
    expect(cache.get('a')).toBeUndefined();
    cache.flushAll();
    expect(cache.size).toBe(0);
  });
});
