/**
 * Group commit: callers that arrive while a write is in flight share the next
 * one. Each `add` resolves (or rejects) with its own item's result once the
 * write that carried it has finished, so a caller that awaits it keeps every
 * guarantee of a write of its own; only the number of round trips shrinks.
 *
 * An idle batcher writes on the next turn of the event loop (items added in
 * the same turn travel together); under load, batches grow by themselves up
 * to `maxBatch`, without a timer that would add latency.
 */
/** The result of one item whose own write failed, while the others of its batch succeeded. */
export class ItemFailure {
  constructor(readonly error: unknown) {}
}

export class GroupCommit<I, O> {
  private queued: Array<{ item: I; resolve: (value: O) => void; reject: (error: unknown) => void }> = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    /** Writes a batch; returns one result per item, in order (an `ItemFailure` rejects that item only). */
    private readonly write: (items: I[]) => Promise<Array<O | ItemFailure>>,
    /** `maxInFlight`: batches written at once (default 1); a second one may start while the first waits on the database. */
    private readonly options: { maxBatch: number; maxInFlight?: number },
  ) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queued.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.queued.length === 0 || this.inFlight >= (this.options.maxInFlight ?? 1)) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.queued.length > 0 && this.inFlight < (this.options.maxInFlight ?? 1)) {
      const batch = this.queued.splice(0, this.options.maxBatch);
      this.inFlight++;
      this.write(batch.map((entry) => entry.item))
        .then(
          (results) =>
            batch.forEach((entry, i) => {
              const result = results[i];
              if (result instanceof ItemFailure) entry.reject(result.error);
              else entry.resolve(result);
            }),
          (error: unknown) => batch.forEach((entry) => entry.reject(error)),
        )
        .finally(() => {
          this.inFlight--;
          // What arrived meanwhile goes at once: it has already waited for a whole write.
          this.flush();
        });
    }
  }
}

/**
 * Writes a batch in rounds whose items have distinct keys, in arrival order:
 * for statements that must not carry two items of one key (an UPDATE changes
 * a row at most once; rows counted back by key cannot tell two writers apart).
 * Results come back in the batch's order.
 */
export async function inRounds<I, O>(items: I[], keyOf: (item: I) => string, write: (round: I[]) => Promise<O[]>): Promise<O[]> {
  const results = new Array<O>(items.length);
  let pending = items.map((item, index) => ({ item, index }));
  while (pending.length > 0) {
    const seen = new Set<string>();
    const round: typeof pending = [];
    const later: typeof pending = [];
    for (const entry of pending) {
      const key = keyOf(entry.item);
      if (seen.has(key)) later.push(entry);
      else {
        seen.add(key);
        round.push(entry);
      }
    }
    const written = await write(round.map((entry) => entry.item));
    round.forEach((entry, i) => (results[entry.index] = written[i]));
    pending = later;
  }
  return results;
}
