import { WA_CERT_DETAILS } from '@whiskeysockets/baileys';

/**
 * Connects the gateway to the WhatsApp emulator (sandbox mode): waits until
 * the emulator's control API answers, then installs its root key as Baileys'
 * trust root and returns the WebSocket URL to give Baileys as
 * `waWebSocketUrl`. It refuses to run unless a sandbox URL is configured: the
 * trust root must never be replaced in a production configuration.
 */

export class SandboxNotConfiguredError extends Error {
  constructor() {
    super('sandbox mode is not configured (WA_SANDBOX_URL is unset): refusing to replace the WhatsApp trust root');
  }
}

export class SandboxUnavailableError extends Error {}

export interface SandboxConnection {
  /** Pass to Baileys as `waWebSocketUrl`. */
  waWebSocketUrl: string;
  /** The emulator's root public key, now installed as Baileys' trust root. */
  rootPublicKey: Buffer;
  /** The certificate of the emulator's HTTPS media host (PEM), to trust for media uploads; absent on an emulator without one. */
  mediaCaCert?: string;
}

export interface SandboxConnectOptions {
  /** The emulator control URL (`WA_SANDBOX_URL`); unset means sandbox mode is off. */
  sandboxUrl: string | undefined;
  /** How long to keep retrying `/v1/info` (default 30 s). */
  timeoutMs?: number;
  /** Pause between attempts (default 250 ms). */
  retryIntervalMs?: number;
  logger?: { info: (obj: object, msg: string) => void; warn: (obj: object, msg: string) => void };
}

const WA_PRODUCTION_ROOT = Buffer.from(WA_CERT_DETAILS.PUBLIC_KEY);

export async function connectToSandbox(options: SandboxConnectOptions): Promise<SandboxConnection> {
  if (!options.sandboxUrl) throw new SandboxNotConfiguredError();
  const infoUrl = new URL('/v1/info', options.sandboxUrl).toString();
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let lastError = 'no attempt made';
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await fetch(infoUrl, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) {
        const info = parseInfo(await response.json());
        installTrustRoot(info.rootPublicKey);
        options.logger?.info({ sandboxUrl: options.sandboxUrl, wsUrl: info.waWebSocketUrl, attempt }, 'sandbox mode: connected to the WhatsApp emulator');
        return info;
      }
      lastError = `HTTP ${response.status}`;
    } catch (error) {
      if (error instanceof SandboxUnavailableError) throw error;
      lastError = (error as Error).message;
    }
    if (Date.now() >= deadline) throw new SandboxUnavailableError(`emulator at ${infoUrl} did not answer: ${lastError}`);
    if (attempt === 1) options.logger?.warn({ infoUrl, lastError }, 'waiting for the WhatsApp emulator');
    await new Promise((resolve) => setTimeout(resolve, options.retryIntervalMs ?? 250));
  }
}

function parseInfo(body: unknown): SandboxConnection {
  const info = body as { wsUrl?: unknown; rootPublicKey?: unknown; mediaCaCert?: unknown };
  if (typeof info?.wsUrl !== 'string' || !/^wss?:\/\//.test(info.wsUrl)) throw new SandboxUnavailableError('emulator /v1/info has no valid wsUrl');
  if (typeof info.rootPublicKey !== 'string' || !/^[0-9a-f]{64}$/i.test(info.rootPublicKey)) {
    throw new SandboxUnavailableError('emulator /v1/info has no valid rootPublicKey (64 hex characters)');
  }
  if (info.mediaCaCert !== undefined && (typeof info.mediaCaCert !== 'string' || !info.mediaCaCert.includes('BEGIN CERTIFICATE'))) {
    throw new SandboxUnavailableError('emulator /v1/info has an invalid mediaCaCert (a PEM certificate)');
  }
  return { waWebSocketUrl: info.wsUrl, rootPublicKey: Buffer.from(info.rootPublicKey, 'hex'), mediaCaCert: info.mediaCaCert };
}

/**
 * Baileys reads `WA_CERT_DETAILS.PUBLIC_KEY` at every handshake; overwriting
 * the exported buffer in place is the only hook (one module instance: a second
 * copy of Baileys in node_modules would not see it).
 */
function installTrustRoot(root: Buffer): void {
  WA_CERT_DETAILS.PUBLIC_KEY.set(root);
}

/** Puts WhatsApp's real root back (tests that switch sandboxes). */
export function restoreProductionTrustRoot(): void {
  WA_CERT_DETAILS.PUBLIC_KEY.set(WA_PRODUCTION_ROOT);
}
