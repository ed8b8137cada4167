import type { DeliveryReceipt, MessageRecord, MessagesRepository } from './messages.repository';
import { deliveryKey } from './messages.repository';
import { StatusWriter } from './status-writer';

const record = (id: string, status: string) => ({ id, status }) as unknown as MessageRecord;

/** A repository that records each statement's items; a message "changes" unless listed in `unchanged`. */
function fakes(unchanged: string[] = []) {
  const statements = { attempts: [] as string[][], acks: [] as string[][], receipts: [] as string[][] };
  const messages = {
    startSendingMany: async (attempts: Array<{ id: string }>) => {
      statements.attempts.push(attempts.map((a) => a.id));
      return new Map(attempts.filter((a) => !unchanged.includes(a.id)).map((a) => [a.id, { message: record(a.id, 'sending'), sessionConfig: undefined }]));
    },
    markSentMany: async (acks: Array<{ id: string }>) => {
      statements.acks.push(acks.map((a) => a.id));
      return new Map(acks.filter((a) => !unchanged.includes(a.id)).map((a) => [a.id, record(a.id, 'sent')]));
    },
    advanceDeliveryMany: async (receipts: DeliveryReceipt[]) => {
      statements.receipts.push(receipts.map((r) => `${r.waMessageId}:${r.status}`));
      return new Map(receipts.filter((r) => !unchanged.includes(r.waMessageId)).map((r) => [deliveryKey(r.sessionId, r.waMessageId), record(r.waMessageId, r.status)]));
    },
  } as unknown as MessagesRepository;
  return { writer: new StatusWriter(messages), statements };
}

const receipt = (waMessageId: string, status: DeliveryReceipt['status']): DeliveryReceipt => ({ sessionId: 's1', waMessageId, status, at: new Date() });

describe('StatusWriter', () => {
  it('writes acks arriving together in one statement; each caller gets its own row or undefined', async () => {
    const { writer, statements } = fakes(['m2']);
    const results = await Promise.all(['m1', 'm2', 'm3'].map((id) => writer.markSent(id, new Date())));
    expect(statements.acks).toEqual([['m1', 'm2', 'm3']]);
    expect(results.map((r) => r?.id)).toEqual(['m1', undefined, 'm3']);
  });

  it('starts attempts arriving together in one statement; a message no longer waiting gets undefined', async () => {
    const { writer, statements } = fakes(['m2']);
    const results = await Promise.all(['m1', 'm2'].map((id) => writer.startSending(id)));
    expect(statements.attempts).toEqual([['m1', 'm2']]);
    expect(results.map((r) => r?.message.status)).toEqual(['sending', undefined]);
  });

  it('puts two receipts of one message in successive statements, in arrival order', async () => {
    const { writer, statements } = fakes();
    const results = await Promise.all([receipt('w1', 'delivered'), receipt('w2', 'delivered'), receipt('w1', 'read')].map((r) => writer.advanceDelivery(r)));
    expect(statements.receipts).toEqual([['w1:delivered', 'w2:delivered'], ['w1:read']]);
    expect(results.map((r) => r?.status)).toEqual(['delivered', 'delivered', 'read']);
  });
});
