/**
 * Work run every `intervalMs`, never twice at once, that can be woken to run
 * sooner. A wake while a run is in flight asks for one more run as soon as
 * that one ends, instead of starting a second timer: replacing a timer that an
 * in-flight run would re-arm on its way out leaves two loops polling forever,
 * one more per wake.
 */
export class PeriodicTask {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private runAgain = false;
  private stopped = false;

  constructor(
    private readonly work: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly onError: (error: Error) => void,
  ) {}

  /** The first run after `delayMs` (default: one interval). */
  start(delayMs = this.intervalMs): void {
    this.schedule(delayMs);
  }

  /** Runs as soon as possible: now if idle, right after the current run otherwise. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) this.runAgain = true;
    else this.schedule(0);
  }

  /** No run starts after this; resolves when the one in flight (if any) has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), delayMs);
  }

  private run(): void {
    if (this.stopped || this.running) return;
    this.running = this.work()
      .catch((error: Error) => this.onError(error))
      .finally(() => {
        this.running = undefined;
        if (this.stopped) return;
        this.schedule(this.runAgain ? 0 : this.intervalMs);
        this.runAgain = false;
      });
  }
}
