import { randomUUID } from 'node:crypto';
import { SendError, SendErrorCode } from '../../libs/contracts/src';
import { MessageEventSink } from '../../libs/contracts/src';
import { MessageQueue } from '../../libs/queue/src';
import { MessagesRepository, SendReconciler, WA_MESSAGE_ID_SHAPE, deriveWaMessageId, sendQueueName, type NewOutgoing } from '../../libs/messaging/src';
import { StatusWriter } from '../../libs/messaging/src/status-writer';
import { waitFor } from '../support/services';
import { MessagingHarness } from './support';

const PHONE = '5534999990001';
const JID = `${PHONE}@s.whatsapp.net`;
const text = (messageId: string, extra: Record<string, unknown> = {}) => ({ messageId, to: PHONE, type: 'text', body: 'Olá', ...extra });
const uid = () => randomUUID();

/**
 * The send pipeline through HTTP on one storage/queue combination:
 * `env` picks the database and the queue driver.
 */
export function sendPipelineSuite(env: () => Promise<Record<string, string>>, removeJob: (h: MessagingHarness, queue: string, jobId: string) => Promise<void>): void {
  let h: MessagingHarness;

  beforeAll(async () => {
    h = await MessagingHarness.start(await env());
  });

  afterAll(async () => {
    await h?.close();
  });

  const statusOf = async (sessionId: string, messageId: string) => (await h.message(sessionId, messageId)).body?.status as string | undefined;
  const until = (sessionId: string, messageId: string, status: string) =>
    waitFor(async () => (await statusOf(sessionId, messageId)) === status, { timeoutMs: 15000, what: `${messageId} to be ${status}` });

  describe('validation', () => {
    let session: string;
    beforeAll(async () => (session = await h.connection()));

    it.each([
      ['an array', [1, 2]],
      ['a string', '"hello"'],
      ['null', 'null'],
      ['no messageId', { to: PHONE, type: 'text', body: 'x' }],
      ['a bad recipient', text(uid(), { to: 'alice' })],
      ['a @c.us recipient', text(uid(), { to: `${PHONE}@c.us` })],
      ['a number as to', text(uid(), { to: 5534999990001 })],
      ['an unknown type', text(uid(), { type: 'sms' })],
      ['text without body', { messageId: uid(), to: PHONE, type: 'text' }],
      ['text with a media', text(uid(), { media: { url: 'https://example.com/a.png', mimetype: 'image/png' } })],
      ['image without media', { messageId: uid(), to: PHONE, type: 'image' }],
      ['image with media as a string', { messageId: uid(), to: PHONE, type: 'image', media: 'https://example.com/a.png' }],
      ['image with both url and base64', { messageId: uid(), to: PHONE, type: 'image', media: { url: 'https://e.com/a', base64: 'AAAA', mimetype: 'image/png' } }],
      ['image with a pdf mimetype', { messageId: uid(), to: PHONE, type: 'image', media: { url: 'https://e.com/a', mimetype: 'application/pdf' } }],
      ['image by ftp', { messageId: uid(), to: PHONE, type: 'image', media: { url: 'ftp://e.com/a', mimetype: 'image/png' } }],
      ['video with bad base64', { messageId: uid(), to: PHONE, type: 'video', media: { base64: '@@@', mimetype: 'video/mp4' } }],
      ['sticker that is a png', { messageId: uid(), to: PHONE, type: 'sticker', media: { base64: 'AAAA', mimetype: 'image/png' } }],
      ['ptt on a video', { messageId: uid(), to: PHONE, type: 'video', ptt: true, media: { url: 'https://e.com/a', mimetype: 'video/mp4' } }],
      ['location out of range', { messageId: uid(), to: PHONE, type: 'location', location: { latitude: 100, longitude: 0 } }],
      ['location with strings', { messageId: uid(), to: PHONE, type: 'location', location: { latitude: '1', longitude: '2' } }],
      ['contact with a name only', { messageId: uid(), to: PHONE, type: 'contact', contact: { fullName: 'Ana' } }],
      ['reaction without target', { messageId: uid(), to: PHONE, type: 'reaction', reaction: { emoji: '👍' } }],
      ['poll with one option', { messageId: uid(), to: PHONE, type: 'poll', poll: { name: 'Q', options: ['a'] } }],
      ['poll with repeated options', { messageId: uid(), to: PHONE, type: 'poll', poll: { name: 'Q', options: ['a', 'a'] } }],
      ['poll with 13 options', { messageId: uid(), to: PHONE, type: 'poll', poll: { name: 'Q', options: Array.from({ length: 13 }, (_, i) => `${i}`) } }],
      ['a bad scheduledAt', text(uid(), { scheduledAt: 'tomorrow' })],
      ['an unknown member', text(uid(), { priority: 1 })],
      ['a nested junk member', text(uid(), { body: { $gt: '' } })],
      ['a messageId with spaces', text('has spaces')],
    ])('refuses %s with a 400 problem naming fields', async (_what, body) => {
      const response = await h.send(session, body);
      expect(response.status).toBe(400);
      expect(response.body.code).toMatch(/VALIDATION_FAILED|MALFORMED_BODY/);
      if (typeof body === 'object' && !Array.isArray(body) && body !== null) expect(response.body.errors?.length).toBeGreaterThan(0);
    });

    it('refuses media over the size limit with 413', async () => {
      const response = await h.send(session, { messageId: uid(), to: PHONE, type: 'sticker', media: { base64: 'A'.repeat(800_000), mimetype: 'image/webp' } });
      expect(response.status).toBe(413);
      expect(response.body).toMatchObject({ code: 'MEDIA_TOO_LARGE', errors: [{ field: 'media.base64' }] });
    });

    it('accepts every type and normalises the recipient', async () => {
      const bodies = [
        { type: 'text', body: 'hi' },
        { type: 'image', media: { url: 'https://example.com/a.jpg', mimetype: 'image/jpeg' }, caption: 'c' },
        { type: 'video', media: { base64: 'AAAA', mimetype: 'video/mp4' } },
        { type: 'audio', media: { base64: 'AAAA', mimetype: 'audio/ogg; codecs=opus' }, ptt: true },
        { type: 'document', media: { base64: 'AAAA', mimetype: 'application/pdf', filename: 'a.pdf' } },
        { type: 'sticker', media: { base64: 'AAAA', mimetype: 'image/webp' } },
        { type: 'location', location: { latitude: -18.91, longitude: -48.27, name: 'Uberlândia' } },
        { type: 'contact', contact: { fullName: 'Ana', phoneNumber: '+5534999990002' } },
        { type: 'reaction', reaction: { targetMessageId: 'x1', emoji: '👍' } },
        { type: 'poll', poll: { name: 'Q', options: ['a', 'b', 'c'], selectableCount: 2 } },
      ];
      for (const body of bodies) {
        const messageId = uid();
        const response = await h.send(session, { messageId, to: `+${PHONE}`, ...body });
        expect({ type: body.type, status: response.status, body: response.body }).toEqual({ type: body.type, status: 202, body: { queued: true, messageId, status: 'queued' } });
        const stored = await h.message(session, messageId);
        expect(stored.body).toMatchObject({ to: JID, chat: JID, type: body.type, status: 'queued', direction: 'out' });
        expect(stored.body.waMessageId).toMatch(WA_MESSAGE_ID_SHAPE);
      }
    });
  });

  describe('idempotency and connection state', () => {
    it('the accepting INSERTs answer with exactly the row they stored (one send, and a batch with a duplicate)', async () => {
      const session = await h.connection();
      const repository = h.gw.app.get(MessagesRepository);
      const outgoing = (messageId: string, extra: Partial<NewOutgoing> = {}): NewOutgoing => ({
        id: randomUUID(),
        sessionId: session,
        messageId,
        to: JID,
        type: 'text',
        payload: { to: JID, content: { type: 'text', body: 'Olá', nested: { b: 1, a: [1, 'x'] } } },
        payloadHash: 'h',
        waMessageId: deriveWaMessageId(session, messageId),
        scheduledAt: null,
        ...extra,
      });
      const one = outgoing(uid(), { scheduledAt: new Date(Date.now() + 60_000) });
      const inserted = await repository.insertOutgoing(one);
      expect(inserted).toEqual(await repository.findByMessageId(session, one.messageId));
      const [a, b] = [outgoing(uid()), outgoing(uid())];
      const many = await repository.insertOutgoingMany([a, b, outgoing(a.messageId)]);
      expect([...many.keys()]).toEqual([a.id, b.id]);
      for (const m of [a, b]) expect(many.get(m.id)).toEqual(await repository.findByMessageId(session, m.messageId));
      expect(await repository.insertOutgoing(outgoing(one.messageId))).toBeUndefined();
    });

    it('replays the same payload with 200 and the header, and refuses a different one with 409', async () => {
      const session = await h.connection();
      const messageId = uid();
      const first = await h.send(session, text(messageId));
      expect(first.status).toBe(202);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      // Same payload: other key order and the recipient as a JID.
      const again = await h.send(session, { body: 'Olá', type: 'text', to: JID, messageId });
      expect(again.status).toBe(200);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body).toEqual({ queued: true, messageId, status: 'queued' });
      const conflict = await h.send(session, text(messageId, { body: 'different' }));
      expect(conflict.status).toBe(409);
      expect(conflict.body.code).toBe('IDEMPOTENCY_CONFLICT');
    });

    it('keeps one row and one job for concurrent duplicates', async () => {
      const session = await h.connection();
      const messageId = uid();
      const responses = await Promise.all(Array.from({ length: 8 }, () => h.send(session, text(messageId))));
      expect(responses.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 202]);
      const rows: Array<{ id: string }> = await h.dataSource.query(`SELECT id FROM messages WHERE session_id = $1 AND message_id = $2`, [session, messageId]);
      expect(rows).toHaveLength(1);
      const queue = h.gw.app.get(MessageQueue);
      expect(await queue.getJob(sendQueueName(session), rows[0].id)).toMatchObject({ state: 'waiting' });
      expect((await queue.getCounts(sendQueueName(session))).waiting).toBe(1);
    });

    it('sends accepted together each get their own answer: stored, replayed, refused', async () => {
      const session = await h.connection();
      const known = uid();
      expect((await h.send(session, text(known))).status).toBe(202);
      const fresh = Array.from({ length: 20 }, () => uid());
      const responses = await Promise.all([
        ...fresh.map((messageId) => h.send(session, text(messageId))),
        h.send(session, text(known)),
        h.send(session, text(known, { body: 'another payload' })),
        h.send(randomUUID(), text(uid())),
        h.send(session, text(uid(), { body: 'nul \u0000 inside' })),
      ]);
      expect(responses.slice(0, 20).map((r) => r.status)).toEqual(fresh.map(() => 202));
      expect(responses.slice(20, 23).map((r) => r.status)).toEqual([200, 409, 404]);
      expect(responses[23].status).toBe(400);
      expect(responses[23].body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'body' }] });
      const rows: Array<{ n: string }> = await h.dataSource.query(`SELECT count(*) AS n FROM messages WHERE session_id = $1 AND message_id = ANY($2)`, [session, fresh]);
      expect(Number(rows[0].n)).toBe(20);
      expect((await h.gw.app.get(MessageQueue).getCounts(sendQueueName(session))).waiting).toBe(21);
    });

    it('answers 404 for an unknown or malformed connection', async () => {
      expect((await h.send(randomUUID(), text(uid()))).body).toMatchObject({ status: 404, code: 'SESSION_NOT_FOUND' });
      expect((await h.send('not-a-uuid', text(uid()))).status).toBe(404);
    });

    it('refuses a logged-out connection with 409, after the idempotency key', async () => {
      const session = await h.connection();
      const earlier = uid();
      expect((await h.send(session, text(earlier))).status).toBe(202);
      await h.dataSource.query(`UPDATE sessions SET status = 'logged_out' WHERE id = $1`, [session]);
      expect((await h.send(session, text(uid()))).body).toMatchObject({ status: 409, code: 'SESSION_LOGGED_OUT' });
      expect((await h.send(session, text(earlier))).status).toBe(200);
    });

    it('lets a scoped key send only on its own connection', async () => {
      const mine = await h.connection();
      const other = await h.connection();
      const key = await h.scopedKey(mine);
      expect((await h.send(mine, text(uid()), { key })).status).toBe(202);
      expect((await h.send(other, text(uid()), { key })).status).toBe(403);
    });
  });

  describe('worker', () => {
    it('sends, retries transient failures into the dead-letter queue, and replays to sent', async () => {
      const session = await h.connection();
      const to = '5534999990101';
      const transient = () => new SendError(SendErrorCode.Timeout, 'no ack');
      h.gateway.script(`${to}@s.whatsapp.net`, [transient(), transient(), transient()]);
      await h.worker.startSession(session);
      const messageId = uid();
      expect((await h.send(session, text(messageId, { to }))).status).toBe(202);
      await until(session, messageId, 'failed');
      const failed = (await h.message(session, messageId)).body;
      expect(failed).toMatchObject({ attempts: 3, error: { code: 'SEND_TIMEOUT' }, deadLettered: true });
      expect(failed.statusTimes).toHaveProperty('retrying');
      expect(failed.statusTimes).toHaveProperty('failed');
      const calls = h.gateway.callsTo(`${to}@s.whatsapp.net`);
      expect(calls).toHaveLength(3);
      expect(new Set(calls.map((c) => c.waMessageId))).toEqual(new Set([deriveWaMessageId(session, messageId)]));
      expect(h.events.find((e) => e.id === `${session}:${messageId}:message.failed`)).toMatchObject({ type: 'message.failed', payload: { error: { code: 'SEND_TIMEOUT' } } });

      const letters = await h.request('GET', `/dead-letters?sessionId=${session}`);
      expect(letters.body.items.map((i: { messageId: string }) => i.messageId)).toEqual([messageId]);

      const replay = await h.request('POST', `/dead-letters/${messageId}/replay?sessionId=${session}`);
      expect(replay.status).toBe(202);
      expect(replay.body).toMatchObject({ queued: true, messageId, status: 'queued' });
      await until(session, messageId, 'sent');
      const sent = (await h.message(session, messageId)).body;
      expect(sent).toMatchObject({ attempts: 1, error: null, deadLettered: false, waMessageId: deriveWaMessageId(session, messageId) });
      expect(h.gateway.callsTo(`${to}@s.whatsapp.net`)).toHaveLength(4);
      expect((await h.request('GET', `/dead-letters?sessionId=${session}`)).body.items).toEqual([]);
      expect(h.events.some((e) => e.id === `${session}:${messageId}:sent:r1` && e.type === 'message.status')).toBe(true);
    });

    it('a failed write of the ack (even one the database applied) is retried: the message is sent once, and announced', async () => {
      const session = await h.connection();
      const to = '5534999990103';
      await h.worker.startSession(session);
      const statuses = h.gw.app.get(StatusWriter);
      const markSent = statuses.markSent;
      let failures = 0;
      statuses.markSent = async function (id, ackAt) {
        const result = await markSent.call(this, id, ackAt);
        if (failures++ < 2) throw new Error('Connection terminated unexpectedly');
        return result;
      };
      try {
        const messageId = uid();
        expect((await h.send(session, text(messageId, { to }))).status).toBe(202);
        await waitFor(() => h.events.find((e) => e.id === `${session}:${messageId}:sent`), { what: 'the sent event' });
        const sent = (await h.message(session, messageId)).body;
        expect(sent).toMatchObject({ status: 'sent', attempts: 1, error: null });
        expect(sent.statusTimes).not.toHaveProperty('retrying');
        expect(h.gateway.callsTo(`${to}@s.whatsapp.net`)).toHaveLength(1);
        expect(failures).toBe(3);
      } finally {
        statuses.markSent = markSent;
      }
    });

    it('fails at once on a permanent error', async () => {
      const session = await h.connection();
      const to = '5534999990102';
      h.gateway.script(`${to}@s.whatsapp.net`, [new SendError(SendErrorCode.NotOnWhatsApp, 'not on WhatsApp')]);
      await h.worker.startSession(session);
      const messageId = uid();
      await h.send(session, text(messageId, { to }));
      await until(session, messageId, 'failed');
      expect((await h.message(session, messageId)).body).toMatchObject({ attempts: 1, error: { code: 'NOT_ON_WHATSAPP' }, deadLettered: true });
      expect(h.gateway.callsTo(`${to}@s.whatsapp.net`)).toHaveLength(1);
    });

    it('moves forward only on receipts and records each time', async () => {
      const session = await h.connection();
      await h.worker.startSession(session);
      const sink = h.gw.app.get(MessageEventSink);
      const messageId = uid();
      await h.send(session, text(messageId));
      await until(session, messageId, 'sent');
      const waId = deriveWaMessageId(session, messageId);
      await sink.statusUpdate(session, waId, 'read', new Date('2030-01-01T00:00:02Z'));
      await sink.statusUpdate(session, waId, 'delivered', new Date('2030-01-01T00:00:01Z'));
      const read = (await h.message(session, messageId)).body;
      expect(read.status).toBe('read');
      expect(read.statusTimes).toMatchObject({ delivered: '2030-01-01T00:00:02.000Z', read: '2030-01-01T00:00:02.000Z' });
      expect(read.statusHistory.map((s: { status: string }) => s.status)).toEqual(['queued', 'sending', 'sent', 'delivered', 'read']);
      expect(h.events.filter((e) => e.id.startsWith(`${session}:${messageId}:`)).map((e) => e.id)).toEqual([`${session}:${messageId}:sent`, `${session}:${messageId}:delivered`, `${session}:${messageId}:read`]);

      // A receipt that overtakes the ack: the status stays ahead and `sent` is recorded too.
      const early = uid();
      h.gateway.beforeAck = async (call) => {
        if (call.waMessageId === deriveWaMessageId(session, early)) await sink.statusUpdate(session, call.waMessageId, 'delivered', new Date());
      };
      try {
        await h.send(session, text(early));
        await waitFor(async () => Object.keys((await h.message(session, early)).body.statusTimes ?? {}).includes('sent'), { what: 'the early message to be acked' });
      } finally {
        h.gateway.beforeAck = undefined;
      }
      const delivered = (await h.message(session, early)).body;
      expect(delivered.status).toBe('delivered');
      expect(Object.keys(delivered.statusTimes)).toEqual(expect.arrayContaining(['sending', 'sent', 'delivered']));
    });

    it('holds ?wait=sent until the ack', async () => {
      const session = await h.connection();
      await h.worker.startSession(session);
      const messageId = uid();
      const response = await h.send(session, text(messageId), { query: '?wait=sent' });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ queued: true, messageId, status: 'sent' });
    });

    it('paces sends per connection and per recipient', async () => {
      const session = await h.connection({ config: { pacing: { messagesPerMinute: 300, minGapPerRecipientMs: 500 } } });
      await h.worker.startSession(session);
      const a = '5534999990201';
      const b = '5534999990202';
      const ids = [uid(), uid(), uid(), uid()];
      for (const [i, to] of [a, a, b, a].entries()) expect((await h.send(session, text(ids[i], { to }))).status).toBe(202);
      await waitFor(() => h.gateway.calls.filter((c) => c.sessionId === session).length === 4, { timeoutMs: 15000, what: 'four paced sends' });
      const calls = h.gateway.calls.filter((c) => c.sessionId === session);
      const gaps = calls.slice(1).map((c, i) => c.at - calls[i].at);
      // 300/min: 200 ms between any two sends (timer slack of a few ms allowed).
      for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(195);
      const toA = calls.filter((c) => c.message.to === `${a}@s.whatsapp.net`).map((c) => c.at);
      expect(toA[1] - toA[0]).toBeGreaterThanOrEqual(495);
      expect(toA[2] - toA[1]).toBeGreaterThanOrEqual(495);
      expect(calls.map((c) => c.message.to)).toEqual([a, a, b, a].map((p) => `${p}@s.whatsapp.net`));
    });

    it('with sends overlapping, paces the next send from when a slow send left, not from when it began', async () => {
      const session = await h.connection({ config: { pacing: { messagesPerMinute: 0, minGapPerRecipientMs: 500 } } });
      const to = '5534999990203';
      const ids = [uid(), uid()];
      // The first send takes 800 ms before it is written (more than the gap); the second is already waiting behind it.
      h.gateway.beforeWrite = async (call) => {
        if (call.sessionId === session && call.waMessageId === deriveWaMessageId(session, ids[0])) await new Promise((r) => setTimeout(r, 800));
      };
      try {
        for (const messageId of ids) expect((await h.send(session, text(messageId, { to }))).status).toBe(202);
        await h.worker.startSession(session);
        await waitFor(() => h.gateway.calls.filter((c) => c.sessionId === session && c.writtenAt).length === 2, { timeoutMs: 15000, what: 'both sends written' });
        const [first, second] = h.gateway.calls.filter((c) => c.sessionId === session);
        expect(first.waMessageId).toBe(deriveWaMessageId(session, ids[0]));
        expect(second.writtenAt! - first.writtenAt!).toBeGreaterThanOrEqual(495);
      } finally {
        h.gateway.beforeWrite = undefined;
      }
    });

    it('re-enqueues a queued message whose job was lost', async () => {
      const session = await h.connection();
      const messageId = uid();
      await h.send(session, text(messageId));
      const [{ id }]: Array<{ id: string }> = await h.dataSource.query(`SELECT id FROM messages WHERE session_id = $1 AND message_id = $2`, [session, messageId]);
      const queue = h.gw.app.get(MessageQueue);
      await removeJob(h, sendQueueName(session), id);
      expect(await queue.getJob(sendQueueName(session), id)).toBeNull();
      const result = await h.gw.app.get(SendReconciler).reconcile({ graceMs: 0 });
      expect(result.enqueued).toBeGreaterThanOrEqual(1);
      expect(await queue.getJob(sendQueueName(session), id)).not.toBeNull();
      await h.worker.startSession(session);
      await until(session, messageId, 'sent');
      expect(h.gateway.calls.filter((c) => c.waMessageId === deriveWaMessageId(session, messageId))).toHaveLength(1);
    });
  });

  describe('status writes', () => {
    it('batches of acks, receipts and attempts over the same messages in any order never deadlock', async () => {
      // Acks and receipts of the same messages arrive at once under load, each batch listing them in its own order: a
      // statement that locks its rows in the order it lists them deadlocks with one listing them the other way round.
      const session = await h.connection();
      const repository = h.gw.app.get(MessagesRepository);
      for (let round = 0; round < 8; round++) {
        const batch = Array.from({ length: 40 }, () => {
          const messageId = uid();
          return { id: randomUUID(), sessionId: session, messageId, to: JID, type: 'text', payload: { to: JID, content: { type: 'text', body: 'Olá' } }, payloadHash: 'h', waMessageId: deriveWaMessageId(session, messageId), scheduledAt: null } satisfies NewOutgoing;
        });
        await repository.insertOutgoingMany(batch);
        const at = new Date();
        const reversed = [...batch].reverse();
        const results = await Promise.allSettled([
          repository.markSentMany(batch.map((m) => ({ id: m.id, ackAt: at }))),
          repository.advanceDeliveryMany(reversed.map((m) => ({ sessionId: session, waMessageId: m.waMessageId!, status: 'delivered' as const, at }))),
          repository.startSendingMany([...batch.slice(20), ...batch.slice(0, 20)].map((m) => ({ id: m.id, at }))),
          repository.advanceDeliveryMany(batch.map((m) => ({ sessionId: session, waMessageId: m.waMessageId!, status: 'read' as const, at }))),
        ]);
        expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
        for (const m of batch) expect((await repository.findByMessageId(session, m.messageId))?.status).toBe('read');
      }
    });
  });

  describe('incoming and listing', () => {
    it('stores a message reported by notify and append once, and announces it once', async () => {
      const session = await h.connection();
      const sink = h.gw.app.get(MessageEventSink);
      const incoming = {
        waMessageId: `3A${randomUUID().replace(/-/g, '').slice(0, 18).toUpperCase()}`,
        chat: JID,
        from: JID,
        to: '5534000000000@s.whatsapp.net',
        pushName: 'Ana',
        type: 'text',
        body: 'oi',
        timestamp: new Date().toISOString(),
        raw: {},
      };
      await sink.incoming(session, { ...incoming, delivery: 'notify' });
      await sink.incoming(session, { ...incoming, delivery: 'append' });
      const rows = await h.dataSource.query(`SELECT id FROM messages WHERE session_id = $1 AND message_id = $2`, [session, incoming.waMessageId]);
      expect(rows).toHaveLength(1);
      const received = h.events.filter((e) => e.type === 'message.received' && e.sessionId === session);
      expect(received).toHaveLength(1);
      expect(received[0].payload).toMatchObject({ messageId: incoming.waMessageId, from: JID, chat: JID, pushName: 'Ana', type: 'text', body: 'oi' });
      expect((await h.message(session, incoming.waMessageId)).body).toMatchObject({ direction: 'in', status: 'received', waMessageId: incoming.waMessageId, from: JID });
    });

    it('returns stored outgoing content by WhatsApp id, resolving quotes', async () => {
      const session = await h.connection();
      const first = uid();
      await h.send(session, text(first));
      const reply = uid();
      await h.send(session, text(reply, { quotedMessageId: first }));
      const found = await h.gw.app.get(MessageEventSink).findOutgoing(session, deriveWaMessageId(session, reply));
      expect(found).toEqual({ to: JID, content: { type: 'text', body: 'Olá' }, quotedWaMessageId: deriveWaMessageId(session, first), quotedFromMe: true });
      expect(await h.gw.app.get(MessageEventSink).findOutgoing(session, '3EB0000000000000000000')).toBeUndefined();
    });

    it('filters and pages the message list', async () => {
      const session = await h.connection();
      const other = '5534999990301';
      for (let i = 0; i < 5; i++) await h.send(session, text(`page-${i}`));
      await h.send(session, text('other-chat', { to: other }));
      await h.gw.app.get(MessageEventSink).incoming(session, { waMessageId: '3AINCOMING0001', chat: JID, from: JID, to: JID, pushName: null, type: 'text', body: 'x', timestamp: new Date().toISOString(), delivery: 'notify', raw: {} });

      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { status: number; body: { items: Array<{ messageId: string }>; nextCursor: string | null } } = await h.request(
          'GET',
          `/connections/${session}/messages?direction=out&chat=${PHONE}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.items.map((m) => m.messageId));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);

      const incoming = await h.request('GET', `/connections/${session}/messages?direction=in`);
      expect(incoming.body.items.map((m: { messageId: string }) => m.messageId)).toEqual(['3AINCOMING0001']);
      const queued = await h.request('GET', `/connections/${session}/messages?status=queued&chat=${other}@s.whatsapp.net`);
      expect(queued.body.items.map((m: { messageId: string }) => m.messageId)).toEqual(['other-chat']);
      const future = await h.request('GET', `/connections/${session}/messages?since=2999-01-01T00:00:00Z`);
      expect(future.body.items).toEqual([]);
      for (const bad of ['direction=sideways', 'status=lost', 'since=yesterday', 'limit=0', 'cursor=%21%21']) {
        expect((await h.request('GET', `/connections/${session}/messages?${bad}`)).status).toBe(400);
      }
      expect((await h.message(session, 'nope')).body).toMatchObject({ status: 404, code: 'MESSAGE_NOT_FOUND' });
    });
  });

  describe('dead letters', () => {
    it('scopes, disambiguates, replays and discards', async () => {
      const one = await h.connection();
      const two = await h.connection();
      const to = '5534999990401';
      for (const session of [one, two]) {
        h.gateway.script(`${to}@s.whatsapp.net`, [new SendError(SendErrorCode.InvalidRecipient, 'bad')]);
        await h.worker.startSession(session);
        await h.send(session, text('dead-1', { to }));
        await until(session, 'dead-1', 'failed');
      }
      const keyOne = await h.scopedKey(one);

      const all = await h.request('GET', `/dead-letters?limit=200`);
      expect(all.body.items.filter((i: { messageId: string }) => i.messageId === 'dead-1').map((i: { sessionId: string }) => i.sessionId).sort()).toEqual([one, two].sort());
      const scoped = await h.request('GET', `/dead-letters`, undefined, keyOne);
      expect(scoped.body.items.every((i: { sessionId: string }) => i.sessionId === one)).toBe(true);
      expect(scoped.body.items).toHaveLength(1);
      expect((await h.request('GET', `/dead-letters?sessionId=${two}`, undefined, keyOne)).status).toBe(403);

      const ambiguous = await h.request('POST', `/dead-letters/dead-1/replay`);
      expect(ambiguous.body).toMatchObject({ status: 409, code: 'DEAD_LETTER_AMBIGUOUS' });
      expect(ambiguous.body.sessionIds.sort()).toEqual([one, two].sort());

      // The scoped key's messageId is unambiguous: its own connection.
      expect((await h.request('DELETE', `/dead-letters/dead-1`, undefined, keyOne)).status).toBe(204);
      expect((await h.message(one, 'dead-1')).body).toMatchObject({ status: 'failed', deadLettered: false });
      expect((await h.request('DELETE', `/dead-letters/dead-1`, undefined, keyOne)).status).toBe(404);
      expect((await h.request('POST', `/dead-letters/dead-1/replay`, undefined, keyOne)).status).toBe(404);

      const replayed = await h.request('POST', `/dead-letters/dead-1/replay`);
      expect(replayed.status).toBe(202);
      expect(replayed.body.sessionId).toBe(two);
      await until(two, 'dead-1', 'sent');
      expect((await h.request('POST', `/dead-letters/nope/replay`)).status).toBe(404);
      expect((await h.request('GET', `/dead-letters?sessionId=junk`)).status).toBe(400);
    });
  });
}
