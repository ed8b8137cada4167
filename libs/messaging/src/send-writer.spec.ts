import { Registry } from 'prom-client';
import { Metrics } from '../../observability/src/metrics';
import type { MessageRecord, MessagesRepository, NewOutgoing } from './messages.repository';
import type { SendJobs } from './send-jobs';
import { SendWriter } from './send-writer';

const send = (n: number, extra: Partial<NewOutgoing> = {}): NewOutgoing => ({
  id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  sessionId: 's1',
  messageId: `m${n}`,
  to: '5534999999999@s.whatsapp.net',
  type: 'text',
  payload: { n },
  payloadHash: `h${n}`,
  waMessageId: `W${n}`,
  scheduledAt: null,
  ...extra,
});
const recordOf = (m: NewOutgoing) => ({ id: m.id, sessionId: m.sessionId, messageId: m.messageId, jobId: m.id, status: 'queued' }) as unknown as MessageRecord;

/** A repository and a queue that record what they were asked; `refuse` makes a statement fail for the message with that id. */
function fakes(options: { notStored?: string[]; refuse?: string } = {}) {
  const calls = { many: [] as string[][], one: [] as string[], enqueueMany: [] as string[][], enqueue: [] as string[], notJustInserted: 0 };
  const fail = (items: NewOutgoing[]) => {
    if (options.refuse && items.some((m) => m.messageId === options.refuse)) throw new Error('invalid input syntax');
  };
  const messages = {
    insertOutgoingMany: async (items: NewOutgoing[]) => {
      calls.many.push(items.map((m) => m.messageId));
      fail(items);
      return new Map(items.filter((m) => !options.notStored?.includes(m.messageId)).map((m) => [m.id, recordOf(m)]));
    },
    insertOutgoing: async (item: NewOutgoing) => {
      calls.one.push(item.messageId);
      fail([item]);
      return options.notStored?.includes(item.messageId) ? undefined : recordOf(item);
    },
  } as unknown as MessagesRepository;
  const jobs = {
    enqueueMany: async (records: MessageRecord[], options?: { justInserted?: boolean }) => {
      if (!options?.justInserted) calls.notJustInserted++;
      calls.enqueueMany.push(records.map((r) => r.messageId));
    },
    enqueue: async (record: MessageRecord, options?: { justInserted?: boolean }) => {
      if (!options?.justInserted) calls.notJustInserted++;
      calls.enqueue.push(record.messageId);
    },
  } as unknown as SendJobs;
  const metrics = new Metrics(new Registry(), { defaultMetrics: false });
  return { writer: new SendWriter(messages, jobs, metrics), calls, metrics };
}

describe('SendWriter', () => {
  it('measures each shared write: its rows, and how long the insert and the enqueue took', async () => {
    const { writer, metrics } = fakes();
    await Promise.all([1, 2, 3].map((n) => writer.store(send(n))));
    const rows = (await metrics.sendWriteRows.get()).values;
    expect(rows.find((v) => v.metricName === 'send_accept_write_rows_count')?.value).toBe(1);
    expect(rows.find((v) => v.metricName === 'send_accept_write_rows_sum')?.value).toBe(3);
    const counts = (await metrics.sendWriteDuration.get()).values.filter((v) => v.metricName === 'send_accept_write_seconds_count');
    expect(Object.fromEntries(counts.map((v) => [v.labels.stage, v.value]))).toEqual({ insert: 1, enqueue: 1 });
  });

  it('writes sends accepted together in one statement and one enqueue; each caller gets its own row', async () => {
    const { writer, calls } = fakes({ notStored: ['m2'] });
    const results = await Promise.all([1, 2, 3].map((n) => writer.store(send(n))));
    expect(calls.many).toEqual([['m1', 'm2', 'm3']]);
    expect(calls.enqueueMany).toEqual([['m1', 'm3']]);
    expect(results.map((r) => r?.messageId)).toEqual(['m1', undefined, 'm3']);
  });

  it('a lone send takes the single-row path; nothing stored means nothing enqueued', async () => {
    const { writer, calls } = fakes({ notStored: ['m9'] });
    expect((await writer.store(send(8)))?.messageId).toBe('m8');
    expect(await writer.store(send(9))).toBeUndefined();
    // The row was inserted by this write: its job cannot exist, so the queue is told not to ask.
    expect(calls).toMatchObject({ many: [], one: ['m8', 'm9'], enqueue: ['m8'], notJustInserted: 0 });
  });

  it('a batch refused as a whole is retried row by row: only the bad send fails', async () => {
    const { writer, calls } = fakes({ refuse: 'm2' });
    const results = await Promise.allSettled([1, 2, 3].map((n) => writer.store(send(n))));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(calls.one.sort()).toEqual(['m1', 'm2', 'm3']);
    expect(calls.enqueue.sort()).toEqual(['m1', 'm3']);
  });

  it('sends arriving while a write is in flight share the next write', async () => {
    const { writer, calls } = fakes();
    const first = writer.store(send(1));
    await new Promise((resolve) => setImmediate(resolve));
    // The first write has started; these arrive meanwhile (in-flight limit aside, they travel together).
    const rest = Array.from({ length: 5 }, (_, i) => writer.store(send(i + 2)));
    await Promise.all([first, ...rest]);
    expect(calls.one).toEqual(['m1']);
    expect(calls.many).toEqual([['m2', 'm3', 'm4', 'm5', 'm6']]);
  });
});
