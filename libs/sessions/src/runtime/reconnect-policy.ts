/** What a runner does after its socket closed. */
export type CloseDecision =
  | { action: 'reconnect'; delayMs: number; reason: string }
  | { action: 'logged-out'; reason: string }
  | { action: 'stop'; reason: string }
  | { action: 'fail'; reason: string };

export interface ReconnectSettings {
  baseDelayMs: number;
  maxDelayMs: number;
  /** Restarts allowed within `windowMs` before the session is marked failed. */
  maxRestarts: number;
  windowMs: number;
}

export const DEFAULT_RECONNECT: ReconnectSettings = { baseDelayMs: 1000, maxDelayMs: 60_000, maxRestarts: 8, windowMs: 5 * 60_000 };

/** Baileys' disconnect codes (DisconnectReason) the policy tells apart. */
export const CloseCode = {
  connectionClosed: 428,
  connectionLost: 408,
  connectionReplaced: 440,
  timedOut: 408,
  loggedOut: 401,
  badSession: 500,
  restartRequired: 515,
  multideviceMismatch: 411,
  forbidden: 403,
  unavailableService: 503,
} as const;

/**
 * Decides what follows a close. Pure, so every code's behaviour is unit tested:
 * - 515 (restart required, e.g. right after pairing): reconnect at once;
 * - 401 (logged out / device removed): logged out, credentials wiped;
 * - 440 (replaced): stop; two sockets on one account would fight forever;
 * - 403 (forbidden) and 411 (multi-device mismatch): failed, reconnecting cannot help;
 * - 408 before the device was ever linked: the QR codes ran out, stop;
 * - anything else: reconnect with capped exponential backoff and jitter,
 *   until too many restarts in the window mark the session failed.
 */
export function decideAfterClose(
  code: number,
  context: { registered: boolean; recentRestarts: number },
  settings: ReconnectSettings = DEFAULT_RECONNECT,
  random: () => number = Math.random,
): CloseDecision {
  switch (code) {
    case CloseCode.loggedOut:
      return { action: 'logged-out', reason: 'logged out from the phone or the device was removed (401)' };
    case CloseCode.connectionReplaced:
      return { action: 'stop', reason: 'connection replaced: another client opened this account (440); not reconnecting to avoid a fight' };
    case CloseCode.forbidden:
      return { action: 'fail', reason: 'WhatsApp refused the connection (403)' };
    case CloseCode.multideviceMismatch:
      return { action: 'fail', reason: 'multi-device mismatch (411): log in again' };
  }
  if (code === CloseCode.timedOut && !context.registered) {
    return { action: 'stop', reason: 'the QR code was not scanned in time; POST /connections/:id/restart for new codes' };
  }
  if (context.recentRestarts >= settings.maxRestarts) {
    return { action: 'fail', reason: `gave up after ${context.recentRestarts} restarts within ${Math.round(settings.windowMs / 1000)} s (last close code ${code})` };
  }
  if (code === CloseCode.restartRequired) return { action: 'reconnect', delayMs: 0, reason: 'restart required (515)' };
  return { action: 'reconnect', delayMs: backoffDelay(context.recentRestarts, settings, random), reason: `connection closed (${code})` };
}

/** Capped exponential backoff with "equal jitter": half fixed, half random, so delays grow yet never align across sessions. */
export function backoffDelay(attempt: number, settings: ReconnectSettings, random: () => number = Math.random): number {
  const ceiling = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Restart timestamps within the window (a sliding window, so an old burst is forgotten). */
export class RestartWindow {
  private readonly times: number[] = [];

  constructor(private readonly windowMs: number) {}

  record(now = Date.now()): number {
    this.times.push(now);
    return this.count(now);
  }

  count(now = Date.now()): number {
    while (this.times.length > 0 && this.times[0] < now - this.windowMs) this.times.shift();
    return this.times.length;
  }

  reset(): void {
    this.times.length = 0;
  }
}
