import { PeriodicTask } from './periodic-task';

describe('PeriodicTask', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  /** Work whose runs are counted and each held open until released. */
  function heldWork() {
    const releases: Array<() => void> = [];
    let runs = 0;
    let concurrent = 0;
    let maxConcurrent = 0;
    const work = () => {
      runs++;
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      return new Promise<void>((resolve) => releases.push(() => {
        concurrent--;
        resolve();
      }));
    };
    return { work, release: () => releases.shift()?.(), runs: () => runs, maxConcurrent: () => maxConcurrent };
  }

  it('runs every interval, one run at a time', async () => {
    const held = heldWork();
    const task = new PeriodicTask(held.work, 1000, () => undefined);
    task.start(0);
    await jest.advanceTimersByTimeAsync(0);
    expect(held.runs()).toBe(1);
    await jest.advanceTimersByTimeAsync(5000); // the run is still in flight: no second one
    expect(held.runs()).toBe(1);
    held.release();
    await jest.advanceTimersByTimeAsync(999);
    expect(held.runs()).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(held.runs()).toBe(2);
    held.release();
    await task.stop();
  });

  it('wakes during a run into exactly one more run, then back to the interval (no second loop)', async () => {
    const held = heldWork();
    const task = new PeriodicTask(held.work, 1000, () => undefined);
    task.start(0);
    await jest.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 5; i++) task.wake();
    held.release();
    await jest.advanceTimersByTimeAsync(0);
    expect(held.runs()).toBe(2); // the woken run, at once
    held.release();
    // From here one run per interval: five wakes must not have left five loops.
    for (let second = 1; second <= 3; second++) {
      await jest.advanceTimersByTimeAsync(1000);
      expect(held.runs()).toBe(2 + second);
      held.release();
    }
    expect(held.maxConcurrent()).toBe(1);
    await task.stop();
  });

  it('runs at once when woken idle, and reports a failed run without stopping', async () => {
    const errors: string[] = [];
    let runs = 0;
    const task = new PeriodicTask(async () => {
      runs++;
      if (runs === 1) throw new Error('database down');
    }, 1000, (error) => errors.push(error.message));
    task.start();
    task.wake();
    await jest.advanceTimersByTimeAsync(0);
    expect(runs).toBe(1);
    expect(errors).toEqual(['database down']);
    await jest.advanceTimersByTimeAsync(1000);
    expect(runs).toBe(2);
    await task.stop();
  });

  it('starts nothing after stop and waits for the run in flight', async () => {
    const held = heldWork();
    const task = new PeriodicTask(held.work, 1000, () => undefined);
    task.start(0);
    await jest.advanceTimersByTimeAsync(0);
    let stopped = false;
    const stopping = task.stop().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    held.release();
    await stopping;
    task.wake();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(held.runs()).toBe(1);
  });
});
