/**
 * Group commit: callers that arrive while a write is in flight share the next
 * one. Each `add` resolves (or rejects) with its own item's result once the
 * statement that carried it has run, so a caller that awaits it keeps every
 * guarantee of a write of its own; only the number of statements shrinks.
 *
 * An idle batcher writes on the next turn of the event loop (items added in the
 * same turn travel together); under load, batches grow to `maxBatch` by
 * themselves, without any timer that would add latency.
 */
export class GroupCommit<I, O> {
  private queued: Array<{ item: I; resolve: (value: O) => void; reject: (error: unknown) => void }> = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    /** Writes a batch; returns one result per item, in order. */
    private readonly write: (items: I[]) => Promise<O[]>,
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
      this.write(batch.map((entry) => entry.item)).then(
        (results) => batch.forEach((entry, i) => entry.resolve(results[i])),
        (error: unknown) => batch.forEach((entry) => entry.reject(error)),
      ).finally(() => {
        this.inFlight--;
        // What arrived meanwhile goes at once: it has already waited for a whole write.
        this.flush();
      });
    }
  }
}
