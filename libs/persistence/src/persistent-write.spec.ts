import { persistentWrite } from './persistent-write';

describe('persistentWrite', () => {
  it('tries again after failures, backing off, and returns the first success', async () => {
    let calls = 0;
    const retries: Array<[number, number]> = [];
    const result = await persistentWrite(
      async () => {
        calls++;
        if (calls < 3) throw new Error(`down ${calls}`);
        return 'stored';
      },
      { attempts: 5, firstDelayMs: 1, onRetry: (_error, attempt, delayMs) => retries.push([attempt, delayMs]) },
    );
    expect(result).toBe('stored');
    expect(calls).toBe(3);
    expect(retries).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it('gives up after the last attempt with its error', async () => {
    let calls = 0;
    await expect(
      persistentWrite(
        async () => {
          calls++;
          throw new Error(`down ${calls}`);
        },
        { attempts: 3, firstDelayMs: 1 },
      ),
    ).rejects.toThrow('down 3');
    expect(calls).toBe(3);
  });
});
