import { backoffDelay, decideAfterClose, DEFAULT_RECONNECT, RestartWindow } from './reconnect-policy';

const fresh = { registered: true, recentRestarts: 0 };

describe('decideAfterClose', () => {
  it('515 reconnects at once', () => {
    expect(decideAfterClose(515, fresh)).toMatchObject({ action: 'reconnect', delayMs: 0 });
  });

  it('401 is logged out, 440 stops, 403 and 411 fail', () => {
    expect(decideAfterClose(401, fresh).action).toBe('logged-out');
    expect(decideAfterClose(440, fresh).action).toBe('stop');
    expect(decideAfterClose(403, fresh).action).toBe('fail');
    expect(decideAfterClose(411, fresh).action).toBe('fail');
  });

  it('408 before linking stops (QR codes ran out); after linking it reconnects', () => {
    expect(decideAfterClose(408, { registered: false, recentRestarts: 0 }).action).toBe('stop');
    expect(decideAfterClose(408, fresh).action).toBe('reconnect');
  });

  it('drops, stream errors and stalls reconnect with growing delays', () => {
    const delays = [0, 1, 2, 3, 4].map((n) => (decideAfterClose(428, { registered: true, recentRestarts: n }, DEFAULT_RECONNECT, () => 0.5) as { delayMs: number }).delayMs);
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThan(delays[i - 1]);
    for (const code of [500, 503, 408, 428]) expect(decideAfterClose(code, fresh).action).toBe('reconnect');
  });

  it('fails after too many restarts in the window', () => {
    const decision = decideAfterClose(428, { registered: true, recentRestarts: DEFAULT_RECONNECT.maxRestarts });
    expect(decision.action).toBe('fail');
    expect((decision as { reason: string }).reason).toContain(`${DEFAULT_RECONNECT.maxRestarts} restarts`);
  });
});

describe('backoffDelay', () => {
  it('stays within [ceiling/2, ceiling] and is capped', () => {
    const settings = { ...DEFAULT_RECONNECT, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(0, settings, () => 0)).toBe(50);
    expect(backoffDelay(0, settings, () => 1)).toBe(100);
    expect(backoffDelay(3, settings, () => 1)).toBe(800);
    expect(backoffDelay(10, settings, () => 1)).toBe(1000);
    expect(backoffDelay(10, settings, () => 0)).toBe(500);
  });
});

describe('RestartWindow', () => {
  it('forgets restarts older than the window', () => {
    const w = new RestartWindow(1000);
    w.record(0);
    w.record(500);
    expect(w.count(900)).toBe(2);
    expect(w.count(1200)).toBe(1);
    expect(w.record(1600)).toBe(1);
  });
});
