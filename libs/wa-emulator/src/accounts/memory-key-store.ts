import type { SignalDataTypeMap, SignalKeyStore } from '../baileys';

type Category = keyof SignalDataTypeMap;

/** The smallest `SignalKeyStore`: nested maps in memory, nothing persisted. */
export class MemoryKeyStore implements SignalKeyStore {
  private readonly data = new Map<string, Map<string, unknown>>();

  async get<T extends Category>(type: T, ids: string[]): Promise<{ [id: string]: SignalDataTypeMap[T] }> {
    const bucket = this.data.get(type);
    const result: { [id: string]: SignalDataTypeMap[T] } = {};
    if (!bucket) return result;
    for (const id of ids) {
      const value = bucket.get(id);
      if (value !== undefined) result[id] = value as SignalDataTypeMap[T];
    }
    return result;
  }

  async set(data: { [T in Category]?: { [id: string]: SignalDataTypeMap[T] | null } }): Promise<void> {
    for (const [type, values] of Object.entries(data)) {
      if (!values) continue;
      let bucket = this.data.get(type);
      if (!bucket) this.data.set(type, (bucket = new Map()));
      for (const [id, value] of Object.entries(values)) {
        if (value === null || value === undefined) bucket.delete(id);
        else bucket.set(id, value);
      }
    }
  }

  async clear(): Promise<void> {
    this.data.clear();
  }
}
