import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

const KEY_PREFIX = 'wak_';

/** A new key: 256 random bits, URL-safe, with a recognisable prefix (secret scanners can match it). */
export const generateApiKey = () => `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;

export const hashApiKey = (key: string) => hash('sha256', key, 'hex');

const KEY_HASH = Symbol('apiKeyHash');
type WithKeyHash = { headers: Record<string, string | string[] | undefined>; [KEY_HASH]?: string | null };

/**
 * The hash of the request's API key (undefined without one), computed once
 * per request: the rate limiter and the guard both need it.
 */
export function apiKeyHashOf(request: WithKeyHash): string | undefined {
  if (request[KEY_HASH] === undefined) {
    const key = apiKeyFromHeaders(request.headers);
    request[KEY_HASH] = key ? hashApiKey(key) : null;
  }
  return request[KEY_HASH] ?? undefined;
}

export const keyPrefixOf = (key: string) => key.slice(0, KEY_PREFIX.length + 6);

export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Reads the key from `Authorization: Bearer` or `x-api-key`. */
export function apiKeyFromHeaders(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  const value = Array.isArray(auth) ? auth[0] : auth;
  if (value) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(value);
    if (match) return match[1];
  }
  const header = headers['x-api-key'];
  const key = Array.isArray(header) ? header[0] : header;
  return key?.trim() || undefined;
}
