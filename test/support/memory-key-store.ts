import type { SignalDataTypeMap, SignalKeyStore } from '@whiskeysockets/baileys';

/** Signal keys in memory, for bare Baileys sockets (baselines, emulator tests): no persistence, no encryption. */
export function memoryKeyStore(): SignalKeyStore {
  const data = new Map<string, unknown>();
  return {
    get: async <T extends keyof SignalDataTypeMap>(type: T, ids: string[]) => {
      const out: { [id: string]: SignalDataTypeMap[T] } = {};
      for (const id of ids) {
        const v = data.get(`${type}:${id}`);
        if (v !== undefined) out[id] = v as SignalDataTypeMap[T];
      }
      return out;
    },
    set: async (values) => {
      for (const [type, entries] of Object.entries(values)) {
        for (const [id, v] of Object.entries(entries ?? {})) {
          if (v === null || v === undefined) data.delete(`${type}:${id}`);
          else data.set(`${type}:${id}`, v);
        }
      }
    },
  };
}
