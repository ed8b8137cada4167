import { hash } from 'node:crypto';

/**
 * JSON with object keys sorted at every level and `undefined` members dropped,
 * so two payloads that differ only in key order or omitted optionals are the
 * same text (and so the same idempotency hash).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : sortKeys(item)));
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const member = (value as Record<string, unknown>)[key];
      if (member !== undefined) sorted[key] = sortKeys(member);
    }
    return sorted;
  }
  return value;
}

export const sha256Hex = (text: string) => hash('sha256', text, 'hex');

export const payloadHash = (payload: unknown) => sha256Hex(canonicalJson(payload));
