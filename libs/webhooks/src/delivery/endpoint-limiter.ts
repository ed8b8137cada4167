/**
 * At most `max` deliveries in flight per subscription in this process, so one
 * slow endpoint cannot take every consumer slot (and is not flooded).
 */
export class EndpointLimiter {
  private readonly slots = new Map<string, { running: number; waiting: Array<() => void> }>();

  constructor(private readonly max: number) {}

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    let slot = this.slots.get(key);
    if (!slot) this.slots.set(key, (slot = { running: 0, waiting: [] }));
    if (slot.running >= this.max) await new Promise<void>((resolve) => slot.waiting.push(resolve));
    else slot.running++;
    try {
      return await task();
    } finally {
      const next = slot.waiting.shift();
      // The slot passes straight to the next waiter; otherwise it is freed.
      if (next) next();
      else if (--slot.running === 0) this.slots.delete(key);
    }
  }
}
