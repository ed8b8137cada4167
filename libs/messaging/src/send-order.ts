/** A send's place in its connection's line: it may go once `ready` resolves, and lets the next one go with `leave`. */
export interface SendTurn {
  readonly ready: Promise<void>;
  /** Idempotent: called when the message was written to the socket, or when the attempt ends without it. */
  leave(): void;
}

/**
 * The order in which a connection's sends leave for WhatsApp when several are
 * under way at once (`SEND_WINDOW_PER_CONNECTION`): the order in which their
 * attempts began, which is the order the queue handed the jobs out. Each
 * send waits until the one before it has left (or given up), so sends to a
 * chat keep their order on the socket while their acks overlap.
 */
export class SendOrder {
  private readonly tails = new Map<string, Promise<void>>();

  /** Takes the next place in the connection's line; call it before awaiting anything, or the order is lost. */
  enter(sessionId: string): SendTurn {
    const previous = this.tails.get(sessionId) ?? Promise.resolve();
    let leave!: () => void;
    const left = new Promise<void>((resolve) => (leave = resolve));
    const tail = previous.then(() => left);
    this.tails.set(sessionId, tail);
    // Forgotten once the line is empty, so idle connections keep no entry.
    void tail.then(() => {
      if (this.tails.get(sessionId) === tail) this.tails.delete(sessionId);
    });
    return { ready: previous, leave };
  }

  /** Connections with sends in line (for tests and metrics). */
  get size(): number {
    return this.tails.size;
  }
}
