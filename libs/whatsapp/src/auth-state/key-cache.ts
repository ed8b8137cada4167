/**
 * A bounded least-recently-used map. Values are the decrypted JSON text
 * (parsed again on each read, so callers can never mutate the cached copy),
 * or null for "known to be absent".
 */
export class KeyCache {
  private readonly entries = new Map<string, string | null>();

  constructor(private readonly capacity: number) {}

  get(key: string): string | null | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: string, value: string | null): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
