import { BufferJSON, proto, type AuthenticationCreds, type SignalDataTypeMap } from '@whiskeysockets/baileys';

/** Baileys' own JSON form (buffers as base64), the same as its file-based store writes. */
export const encodeJson = (value: unknown): string => JSON.stringify(value, BufferJSON.replacer);

export const decodeCreds = (json: string): AuthenticationCreds => JSON.parse(json, BufferJSON.reviver) as AuthenticationCreds;

export function decodeKey<T extends keyof SignalDataTypeMap>(type: T, json: string): SignalDataTypeMap[T] {
  const value = JSON.parse(json, BufferJSON.reviver);
  // Baileys reads app state keys as protobuf objects, not plain JSON.
  if (type === 'app-state-sync-key') return proto.Message.AppStateSyncKeyData.fromObject(value) as unknown as SignalDataTypeMap[T];
  return value as SignalDataTypeMap[T];
}
