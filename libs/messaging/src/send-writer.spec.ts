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

/**
 * A repository and a queue that record what they were asked: each write is
 * the list of its sends' messageIds. `refuse` makes a write that holds the
 * send with that messageId fail as a whole; `notStored` leaves sends out.
 */
function fakes(options: { notStored?: string[]; refuse?: string } = {}) {
  const calls = { writes: [] as string[][], jobsFor: [] as string[][] };
  const messages = {
    outgoingInsert: (items: NewOutgoing[]) => ({ items }),
    storedRecords: (items: NewOutgoing[], stored: ReadonlySet<string>) => new Map(items.filter((m) => stored.has(m.id)).map((m) => [m.id, recordOf(m)])),
  } as unknown as MessagesRepository;
  const jobs = {
    storeWithJobs: async (rows: { items: NewOutgoing[] }, sends: NewOutgoing[]) => {
      calls.writes.push(rows.items.map((m) => m.messageId));
      // The jobs travel with the rows they belong to.
      calls.jobsFor.push(sends.map((m) => m.messageId));
      if (options.refuse && rows.items.some((m) => m.messageId === options.refuse)) throw new Error('invalid input syntax');
      return new Set(rows.items.filter((m) => !options.notStored?.includes(m.messageId)).map((m) => m.id));
    },
  } as unknown as SendJobs;
  const metrics = new Metrics(new Registry(), { defaultMetrics: false });
  return { writer: new SendWriter(messages, jobs, metrics), calls, metrics };
}

describe('SendWriter', () => {
  it('measures each shared write: its rows, and how long it took', async () => {
    const { writer, metrics } = fakes();
    await Promise.all([1, 2, 3].map((n) => writer.store(send(n))));
    const rows = (await metrics.sendWriteRows.get()).values;
    expect(rows.find((v) => v.metricName === 'send_accept_write_rows_count')?.value).toBe(1);
    expect(rows.find((v) => v.metricName === 'send_accept_write_rows_sum')?.value).toBe(3);
    const counts = (await metrics.sendWriteDuration.get()).values.filter((v) => v.metricName === 'send_accept_write_seconds_count');
    expect(Object.fromEntries(counts.map((v) => [v.labels.stage, v.value]))).toEqual({ store: 1 });
  });

  it('writes sends accepted together, rows and jobs, in one write; each caller gets its own row', async () => {
    const { writer, calls } = fakes({ notStored: ['m2'] });
    const results = await Promise.all([1, 2, 3].map((n) => writer.store(send(n))));
    expect(calls.writes).toEqual([['m1', 'm2', 'm3']]);
    expect(calls.jobsFor).toEqual([['m1', 'm2', 'm3']]);
    expect(results.map((r) => r?.messageId)).toEqual(['m1', undefined, 'm3']);
  });

  it('a lone send is a write of its own; nothing stored reads as undefined', async () => {
    const { writer, calls } = fakes({ notStored: ['m9'] });
    expect((await writer.store(send(8)))?.messageId).toBe('m8');
    expect(await writer.store(send(9))).toBeUndefined();
    expect(calls.writes).toEqual([['m8'], ['m9']]);
  });

  it('a batch refused as a whole is retried row by row: only the bad send fails', async () => {
    const { writer, calls } = fakes({ refuse: 'm2' });
    const results = await Promise.allSettled([1, 2, 3].map((n) => writer.store(send(n))));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(calls.writes[0]).toEqual(['m1', 'm2', 'm3']);
    expect(calls.writes.slice(1).sort()).toEqual([['m1'], ['m2'], ['m3']]);
  });

  it('sends arriving while a write is in flight share the next write', async () => {
    const { writer, calls } = fakes();
    const first = writer.store(send(1));
    await new Promise((resolve) => setImmediate(resolve));
    // The first write has started; these arrive meanwhile (in-flight limit aside, they travel together).
    const rest = Array.from({ length: 5 }, (_, i) => writer.store(send(i + 2)));
    await Promise.all([first, ...rest]);
    expect(calls.writes).toEqual([['m1'], ['m2', 'm3', 'm4', 'm5', 'm6']]);
  });
});
