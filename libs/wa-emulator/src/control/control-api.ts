import type { IncomingMessage, ServerResponse } from 'node:http';
import { EmulatorInputError } from '../errors';
import type { WaEmulator } from '../emulator';
import { decryptReceivedMedia } from '../media/received-media';
import type { OutgoingMedia } from '../simulated-phone';
import { FAULT_TYPES, type Fault, type PhoneOptions } from '../types';

/** Room for a phone's media (base64) in POST /messages. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Route = (emulator: WaEmulator, params: string[], body: unknown) => Promise<[number, unknown]> | [number, unknown];

/**
 * The sandbox control API (API.md, "Sandbox"): JSON over node:http on the
 * same port as the WebSocket. Bad input answers 4xx with `{ error, code }`,
 * never 5xx.
 */
const routes: Array<{ method: string; pattern: RegExp; handler: Route }> = [
  { method: 'GET', pattern: /^\/v1\/info$/, handler: (e) => [200, { wsUrl: e.wsUrl, rootPublicKey: e.rootPublicKeyHex, mediaHost: e.media.hostname, mediaCaCert: e.media.caCert }] },
  {
    method: 'GET',
    pattern: /^\/v1\/stats$/,
    handler: (e) => {
      const memory = process.memoryUsage();
      const cpu = process.cpuUsage();
      return [200, { phones: e.phones.length, connections: e.connectionCount, nodeErrors: e.nodeErrors.length, lastNodeError: e.nodeErrors[e.nodeErrors.length - 1], rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, cpuUserMicros: cpu.user, cpuSystemMicros: cpu.system }];
    },
  },
  { method: 'GET', pattern: /^\/v1\/phones$/, handler: (e) => [200, { items: e.phones.map((p) => p.snapshot()) }] },
  {
    method: 'POST',
    pattern: /^\/v1\/phones$/,
    handler: (e, _p, body) => {
      const input = objectBody(body);
      if (typeof input.phoneNumber !== 'string' && typeof input.phoneNumber !== 'number') throw new HttpError(400, 'phoneNumber is required');
      if (input.pushName !== undefined && typeof input.pushName !== 'string') throw new HttpError(400, 'pushName must be a string');
      const phone = e.createPhone({ ...optionsPatch(input), phoneNumber: String(input.phoneNumber), pushName: input.pushName as string | undefined });
      return [201, phone.snapshot()];
    },
  },
  { method: 'GET', pattern: /^\/v1\/phones\/([^/]+)$/, handler: (e, [n]) => [200, e.phone(n).snapshot()] },
  {
    method: 'PATCH',
    pattern: /^\/v1\/phones\/([^/]+)$/,
    handler: async (e, [n], body) => {
      const phone = e.phone(n);
      const patch = optionsPatch(objectBody(body));
      if (Object.keys(patch).length === 0) throw new HttpError(400, 'nothing to change: autoDeliveryReceipt, autoReadReceipt, online, ackLatencyMs or sendRateLimit');
      await phone.setOptions(patch);
      return [200, phone.snapshot()];
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/phones\/([^/]+)\/link$/,
    handler: async (e, [n], body) => {
      const { qr } = objectBody(body);
      if (typeof qr !== 'string' || !qr) throw new HttpError(400, 'qr is required');
      return [200, await e.phone(n).scanQr(qr)];
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/phones\/([^/]+)\/link-code$/,
    handler: async (e, [n], body) => {
      const { code } = objectBody(body);
      if (typeof code !== 'string' || !code) throw new HttpError(400, 'code is required');
      return [200, await e.phone(n).enterPairingCode(code)];
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/phones\/([^/]+)\/messages$/,
    handler: async (e, [n], body) => {
      const { to, text, id, media } = objectBody(body);
      if (typeof to !== 'string' || !to) throw new HttpError(400, 'to is required');
      if (id !== undefined && (typeof id !== 'string' || !id)) throw new HttpError(400, 'id must be a non-empty string');
      if (media !== undefined) {
        const messageId = await e.phone(n).sendMedia(to, parseMedia(media), { id: id as string | undefined });
        return [201, { id: messageId }];
      }
      if (typeof text !== 'string') throw new HttpError(400, 'text (or media) is required');
      const messageId = await e.phone(n).sendText(to, text, { id: id as string | undefined });
      return [201, { id: messageId }];
    },
  },
  { method: 'GET', pattern: /^\/v1\/phones\/([^/]+)\/messages$/, handler: (e, [n]) => [200, e.phone(n).messages.map(({ content: _c, ...m }) => m)] },
  {
    method: 'GET',
    pattern: /^\/v1\/phones\/([^/]+)\/messages\/([^/]+)\/media$/,
    handler: async (e, [n, id]) => {
      const message = e.phone(n).messages.find((m) => m.id === id);
      if (!message) throw new HttpError(404, `phone ${n} received no message ${id}`);
      return [200, await decryptReceivedMedia(message.content, e.media)];
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/phones\/([^/]+)\/faults$/,
    handler: (e, [n], body) => {
      const fault = parseFault(objectBody(body));
      const affected = e.phone(n).fault(fault);
      return [200, { applied: fault.type, connections: affected }];
    },
  },
];

export async function handleControlRequest(emulator: WaEmulator, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const path = new URL(req.url ?? '/', 'http://x').pathname.replace(/\/+$/, '') || '/';
    const matches = routes.filter((r) => r.pattern.test(path));
    if (matches.length === 0) throw new HttpError(404, `no route ${path}`);
    const route = matches.find((r) => r.method === req.method);
    if (!route) throw new HttpError(405, `method ${req.method} not allowed on ${path}`);
    const params = (route.pattern.exec(path) ?? []).slice(1).map(decodeURIComponent);
    const body = req.method === 'GET' ? undefined : await readJson(req);
    const [status, payload] = await route.handler(emulator, params, body);
    send(res, status, payload);
  } catch (error) {
    const status = error instanceof HttpError ? error.status : error instanceof EmulatorInputError ? error.status : 400;
    send(res, status, { error: (error as Error).message, code: codeFor(status) });
  }
}

function codeFor(status: number): string {
  return ({ 400: 'BAD_REQUEST', 404: 'NOT_FOUND', 405: 'METHOD_NOT_ALLOWED', 409: 'CONFLICT', 413: 'PAYLOAD_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE', 422: 'UNPROCESSABLE' } as Record<number, string>)[status] ?? 'BAD_REQUEST';
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  const type = req.headers['content-type'] ?? 'application/json';
  if (!/json/i.test(type)) throw new HttpError(415, 'send application/json');
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
}

function objectBody(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'body must be a JSON object');
  return body as Record<string, unknown>;
}

function optionsPatch(input: Record<string, unknown>): Partial<PhoneOptions> {
  const patch: Partial<PhoneOptions> = {};
  for (const key of ['autoDeliveryReceipt', 'autoReadReceipt', 'online'] as const) {
    if (input[key] === undefined) continue;
    if (typeof input[key] !== 'boolean') throw new HttpError(400, `${key} must be a boolean`);
    patch[key] = input[key] as boolean;
  }
  if (input.ackLatencyMs !== undefined) {
    if (typeof input.ackLatencyMs !== 'number' || input.ackLatencyMs < 0 || input.ackLatencyMs > 60_000) throw new HttpError(400, 'ackLatencyMs must be 0-60000');
    patch.ackLatencyMs = input.ackLatencyMs;
  }
  if (input.sendRateLimit !== undefined) {
    const limit = input.sendRateLimit as { max?: unknown; windowMs?: unknown; errorCode?: unknown } | null;
    if (limit === null) patch.sendRateLimit = null;
    else if (typeof limit === 'object' && Number.isInteger(limit.max) && (limit.max as number) >= 0 && Number.isInteger(limit.windowMs) && (limit.windowMs as number) > 0) {
      patch.sendRateLimit = { max: limit.max as number, windowMs: limit.windowMs as number, errorCode: limit.errorCode === undefined ? undefined : String(limit.errorCode) };
    } else throw new HttpError(400, 'sendRateLimit must be null or { max, windowMs }');
  }
  return patch;
}

function parseFault(input: Record<string, unknown>): Fault {
  const type = input.type;
  if (typeof type !== 'string' || !(FAULT_TYPES as readonly string[]).includes(type)) {
    throw new HttpError(400, `type must be one of ${FAULT_TYPES.join(', ')}`);
  }
  const deviceId = input.deviceId === undefined ? undefined : Number(input.deviceId);
  if (deviceId !== undefined && !Number.isInteger(deviceId)) throw new HttpError(400, 'deviceId must be an integer');
  switch (type) {
    case 'ack-error': {
      const count = input.count === undefined ? undefined : Number(input.count);
      if (count !== undefined && (!Number.isInteger(count) || count < 1)) throw new HttpError(400, 'count must be a positive integer');
      return { type, code: input.code === undefined ? undefined : String(input.code), count };
    }
    case 'ack-latency':
      if (typeof input.ms !== 'number' || input.ms < 0 || input.ms > 60_000) throw new HttpError(400, 'ms must be 0-60000');
      return { type, ms: input.ms };
    case 'stream-error': {
      const code = input.code === undefined ? 503 : Number(input.code);
      if (code !== 500 && code !== 503) throw new HttpError(400, 'code must be 500 or 503');
      return { type, code, deviceId };
    }
    case 'failure': {
      const reason = input.reason === undefined ? 403 : Number(input.reason);
      if (!Number.isInteger(reason) || reason < 400 || reason > 599) throw new HttpError(400, 'reason must be an HTTP-like code 400-599');
      return { type, reason, deviceId };
    }
    case 'clear':
      return { type };
    default:
      return { type: type as 'drop' | 'conflict' | 'logout' | 'restart-required' | 'stall', deviceId };
  }
}

const MEDIA_KINDS = ['image', 'video', 'audio', 'document', 'sticker'] as const;

function parseMedia(value: unknown): OutgoingMedia {
  const media = objectBody(value);
  if (!MEDIA_KINDS.includes(media.type as (typeof MEDIA_KINDS)[number])) throw new HttpError(400, `media.type must be one of ${MEDIA_KINDS.join(', ')}`);
  if (typeof media.mimetype !== 'string' || !media.mimetype) throw new HttpError(400, 'media.mimetype is required');
  if (typeof media.base64 !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(media.base64)) throw new HttpError(400, 'media.base64 must be base64 data');
  for (const field of ['caption', 'fileName'] as const) {
    if (media[field] !== undefined && typeof media[field] !== 'string') throw new HttpError(400, `media.${field} must be a string`);
  }
  if (media.ptt !== undefined && typeof media.ptt !== 'boolean') throw new HttpError(400, 'media.ptt must be a boolean');
  return {
    type: media.type as OutgoingMedia['type'],
    data: Buffer.from(media.base64, 'base64'),
    mimetype: media.mimetype,
    caption: media.caption as string | undefined,
    fileName: media.fileName as string | undefined,
    ptt: media.ptt as boolean | undefined,
  };
}
