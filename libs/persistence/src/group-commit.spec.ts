import { GroupCommit } from './group-commit';

describe('GroupCommit', () => {
  it('writes what arrives in one turn together, and what arrives during a write in the next one', async () => {
    const writes: number[][] = [];
    let release!: () => void;
    const firstWrite = new Promise<void>((resolve) => (release = resolve));
    const batcher = new GroupCommit<number, string>(
      async (items) => {
        writes.push(items);
        if (writes.length === 1) await firstWrite;
        return items.map((n) => `done ${n}`);
      },
      { maxBatch: 100 },
    );
    const first = [1, 2, 3].map((n) => batcher.add(n));
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual([[1, 2, 3]]);
    const second = [4, 5].map((n) => batcher.add(n));
    await new Promise((resolve) => setImmediate(resolve));
    // One write at a time by default: 4 and 5 wait for the first write to finish.
    expect(writes).toHaveLength(1);
    release();
    expect(await Promise.all([...first, ...second])).toEqual(['done 1', 'done 2', 'done 3', 'done 4', 'done 5']);
    expect(writes).toEqual([[1, 2, 3], [4, 5]]);
  });

  it('splits at maxBatch and runs up to maxInFlight writes at once', async () => {
    const writes: number[][] = [];
    let running = 0;
    let peak = 0;
    const batcher = new GroupCommit<number, number>(
      async (items) => {
        writes.push(items);
        peak = Math.max(peak, ++running);
        await new Promise((resolve) => setImmediate(resolve));
        running--;
        return items;
      },
      { maxBatch: 2, maxInFlight: 2 },
    );
    expect(await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.add(n)))).toEqual([1, 2, 3, 4, 5]);
    expect(writes).toEqual([[1, 2], [3, 4], [5]]);
    expect(peak).toBe(2);
  });

  it('fails every item of a failed write, and keeps working afterwards', async () => {
    let fail = true;
    const batcher = new GroupCommit<number, number>(
      async (items) => {
        if (fail) throw new Error('database down');
        return items.map((n) => n * 10);
      },
      { maxBatch: 10 },
    );
    const results = await Promise.allSettled([batcher.add(1), batcher.add(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toEqual(new Error('database down'));
    fail = false;
    expect(await batcher.add(3)).toBe(30);
  });
});
