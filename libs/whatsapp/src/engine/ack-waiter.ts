import { SendError, SendErrorCode } from '../../../contracts/src';

interface Waiter {
  resolve: (at: Date) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** WhatsApp error acks that mean "too fast": retried later like any transient failure, but counted apart. */
const RATE_LIMIT_ACKS = new Set(['429', '463']);

/**
 * Matches WhatsApp's server acks (`<ack class='message' id=..>`) to pending
 * sends. Baileys raises no event for them and `sendMessage` resolving only
 * means the stanza was written, so the ack is the real "sent" signal.
 */
export class AckWaiter {
  private readonly waiting = new Map<string, Waiter>();
  /** Ids whose ack was an error, kept briefly (Baileys may report the same ack later as a status). */
  private readonly refused = new Set<string>();

  /** Registered before the stanza is written, so a fast ack cannot be missed. */
  expect(id: string, timeoutMs: number): Promise<Date> {
    this.waiting.get(id)?.reject(new SendError(SendErrorCode.Timeout, `superseded by a new send of ${id}`));
    return new Promise<Date>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new SendError(SendErrorCode.Timeout, `no server ack for ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
    });
  }

  settle(id: string, error?: string): void {
    const waiter = this.waiting.get(id);
    if (!waiter) return;
    this.waiting.delete(id);
    clearTimeout(waiter.timer);
    if (!error) return waiter.resolve(new Date());
    this.refused.add(id);
    setTimeout(() => this.refused.delete(id), 60_000).unref();
    const code = RATE_LIMIT_ACKS.has(error) ? SendErrorCode.RateLimited : SendErrorCode.ErrorAck;
    waiter.reject(new SendError(code, `WhatsApp refused message ${id} (error ack ${error})`));
  }

  /** Waiting for this id's ack, or its ack was an error lately: Baileys' own ERROR status for it is the same fact. */
  handles(id: string): boolean {
    return this.waiting.has(id) || this.refused.has(id);
  }

  cancel(id: string): void {
    const waiter = this.waiting.get(id);
    if (!waiter) return;
    this.waiting.delete(id);
    clearTimeout(waiter.timer);
  }

  /** The socket closed: every pending send fails as retryable. */
  failAll(reason: string): void {
    for (const [id, waiter] of this.waiting) {
      clearTimeout(waiter.timer);
      waiter.reject(new SendError(SendErrorCode.SessionNotConnected, `socket closed before the ack of ${id}: ${reason}`));
    }
    this.waiting.clear();
  }
}
