import type { DataSource } from 'typeorm';
import type { EventType } from '../../../events/src/domain-event';
import { SUBSCRIPTION_CACHE_TTL_MS, SubscriptionDirectory } from './subscription-directory';

type Row = { session_id: string | null; events: string[] | string };

/** A data source that answers the directory's one query from `rows` and counts the calls. */
function fakeDataSource(rows: Row[]) {
  const state = { rows, queries: 0, gate: null as Promise<void> | null };
  const dataSource = {
    query: async () => {
      state.queries++;
      const answer = [...state.rows];
      if (state.gate) await state.gate;
      return answer;
    },
  } as unknown as DataSource;
  return { dataSource, state };
}

const event = (type: EventType, sessionId = 's-other') => ({ type, sessionId });

describe('SubscriptionDirectory', () => {
  let now = 1_000_000;
  beforeEach(() => jest.spyOn(Date, 'now').mockImplementation(() => now));
  afterEach(() => jest.restoreAllMocks());

  it('matches global and per-connection subscriptions by event type (empty or "{}" means every type)', async () => {
    const { dataSource } = fakeDataSource([
      { session_id: null, events: ['message.status'] },
      { session_id: 's1', events: '{}' },
      { session_id: 's2', events: '{message.received,"connection.status"}' },
    ]);
    const directory = new SubscriptionDirectory(dataSource);
    expect(await directory.mayMatch(event('message.status'))).toBe(true);
    expect(await directory.mayMatch(event('message.received'))).toBe(false);
    expect(await directory.mayMatch(event('message.received', 's1'))).toBe(true);
    expect(await directory.mayMatch(event('connection.status', 's2'))).toBe(true);
    expect(await directory.mayMatch(event('message.failed', 's2'))).toBe(false);
  });

  it('answers from its copy until it is invalidated or older than the TTL', async () => {
    const { dataSource, state } = fakeDataSource([]);
    const directory = new SubscriptionDirectory(dataSource);
    expect(await directory.mayMatch(event('message.received'))).toBe(false);
    state.rows = [{ session_id: null, events: [] }];
    now += SUBSCRIPTION_CACHE_TTL_MS - 1;
    expect(await directory.mayMatch(event('message.received'))).toBe(false);
    expect(state.queries).toBe(1);
    now += 1;
    expect(await directory.mayMatch(event('message.received'))).toBe(true);
    expect(state.queries).toBe(2);
    state.rows = [];
    directory.invalidate();
    expect(await directory.mayMatch(event('message.received'))).toBe(false);
    expect(state.queries).toBe(3);
  });

  it('does not keep a copy that was loading while a change was made here', async () => {
    const { dataSource, state } = fakeDataSource([]);
    const directory = new SubscriptionDirectory(dataSource);
    let open!: () => void;
    state.gate = new Promise<void>((resolve) => (open = resolve));
    const before = directory.mayMatch(event('message.received'));
    await Promise.resolve();
    // A subscription is created meanwhile: the rows being read may miss it.
    state.rows = [{ session_id: null, events: [] }];
    directory.invalidate();
    state.gate = null;
    open();
    expect(await before).toBe(false);
    expect(await directory.mayMatch(event('message.received'))).toBe(true);
    expect(state.queries).toBe(2);
  });
});
