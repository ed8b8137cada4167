/** A connection's pacing; 0 turns a limit off. */
export interface Pacing {
  messagesPerMinute: number;
  minGapPerRecipientMs: number;
}

/**
 * Anti-ban pacing of one worker's sends. Sends of a session are spaced evenly
 * (`60 s / messagesPerMinute` apart: a steady rhythm looks less like a bot
 * than bursts), and two sends to the same recipient at least
 * `minGapPerRecipientMs` apart. The worker waits the delay this returns
 * before sending; pacing delays, it never fails a message. State is in
 * memory: a session's sends all run in the worker that owns it.
 */
export class SendPacer {
  private readonly lastBySession = new Map<string, number>();
  private readonly lastByRecipient = new Map<string, Map<string, number>>();

  delayMs(sessionId: string, recipient: string, pacing: Pacing, now = Date.now()): number {
    const sessionGap = pacing.messagesPerMinute > 0 ? 60_000 / pacing.messagesPerMinute : 0;
    const last = this.lastBySession.get(sessionId);
    const lastToRecipient = this.lastByRecipient.get(sessionId)?.get(recipient);
    const bySession = last === undefined ? 0 : last + sessionGap - now;
    const byRecipient = lastToRecipient === undefined || pacing.minGapPerRecipientMs <= 0 ? 0 : lastToRecipient + pacing.minGapPerRecipientMs - now;
    return Math.max(0, Math.ceil(bySession), Math.ceil(byRecipient));
  }

  record(sessionId: string, recipient: string, pacing: Pacing, at = Date.now()): void {
    this.lastBySession.set(sessionId, at);
    let recipients = this.lastByRecipient.get(sessionId);
    if (!recipients) this.lastByRecipient.set(sessionId, (recipients = new Map()));
    recipients.set(recipient, at);
    // Entries older than the gap no longer constrain anything.
    if (recipients.size > 1000) for (const [jid, t] of recipients) if (at - t >= pacing.minGapPerRecipientMs) recipients.delete(jid);
  }

  forget(sessionId: string): void {
    this.lastBySession.delete(sessionId);
    this.lastByRecipient.delete(sessionId);
  }
}

/** A connection's `config.pacing` over the global default; anything not a non-negative number falls back. */
export function pacingOf(config: Record<string, unknown> | undefined, defaults: Pacing): Pacing {
  const own = (config?.pacing ?? {}) as Record<string, unknown>;
  const pick = (value: unknown, fallback: number) => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback);
  return { messagesPerMinute: pick(own.messagesPerMinute, defaults.messagesPerMinute), minGapPerRecipientMs: pick(own.minGapPerRecipientMs, defaults.minGapPerRecipientMs) };
}
