import type { CacheStore } from '@whiskeysockets/baileys';

export interface SignalObjectCacheOptions {
  /** Entries kept per socket; the least recently used go first. */
  capacity?: number;
  /** An entry older than this is read as a miss (Baileys' own default for its signal cache is 5 minutes). */
  ttlMs?: number;
  now?: () => number;
}

/**
 * The decoded-object cache in front of a socket's Signal key store
 * (`makeCacheableSignalKeyStore`). Baileys' default there is a NodeCache that
 * measures the rough size of every object it stores, walking each session
 * record on every write: on the send path that was a tenth of the gateway's
 * allocations. This one is a bounded map with lazy expiry: no size
 * accounting, no timers. The store behind it keeps the durable copy.
 */
export class SignalObjectCache implements CacheStore {
  private readonly entries = new Map<string, { value: unknown; expiresAt: number }>();
  private readonly capacity: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: SignalObjectCacheOptions = {}) {
    this.capacity = options.capacity ?? 2000;
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  get<T>(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) return undefined;
    this.entries.set(key, entry);
    return entry.value as T;
  }

  set<T>(key: string, value: T): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.now() + this.ttlMs });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  del(key: string): void {
    this.entries.delete(key);
  }

  flushAll(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
