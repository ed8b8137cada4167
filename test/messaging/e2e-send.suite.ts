import { createHash, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { MessagesRepository, deriveWaMessageId } from '../../libs/messaging/src';
import { MessageEvents } from '../../libs/messaging/src/message-events';
import { StatusWriter } from '../../libs/messaging/src/status-writer';
import type { SimulatedPhone } from '../../libs/wa-emulator/src';
import { Sandbox, randomPhoneNumber } from '../support/sandbox';
import { waitFor } from '../support/services';
import { WebhookReceiver } from '../support/webhook-receiver';

const NO_PACING = { pacing: { messagesPerMinute: 0, minGapPerRecipientMs: 0 } };

/**
 * The send pipeline end to end: API -> store -> queue -> worker -> real
 * Baileys -> emulator -> receipts -> statuses -> webhooks, run on each queue driver.
 */
export function sendPipelineE2E(env: () => Promise<Record<string, string>>): void {
  let sandbox: Sandbox;
  let receiver: WebhookReceiver;
  let sessionId: string;
  let secret: string;
  let recipient: SimulatedPhone;
  let own: SimulatedPhone;

  beforeAll(async () => {
    receiver = await new WebhookReceiver().start();
    // A window of four sends per connection: every test here runs with sends overlapping their acks.
    sandbox = await Sandbox.start({ SEND_RETRY_BASE_DELAY_MS: '100', SEND_MAX_ATTEMPTS: '3', WEBHOOK_RETRY_SCHEDULE: '0,50,100', MEDIA_ALLOW_PRIVATE_HOSTS: '127.0.0.1', SEND_WINDOW_PER_CONNECTION: '4', ...(await env()) });
    const phone = sandbox.emulator.createPhone({ phoneNumber: randomPhoneNumber() });
    sessionId = await sandbox.createConnection({ webhookUrl: receiver.url, config: NO_PACING });
    const [row] = await sandbox.query(`SELECT 1`);
    expect(row).toBeDefined();
    await sandbox.waitForStatus(sessionId, 'qr');
    const { qr } = await sandbox.apiJson<{ qr: string }>(`/connections/${sessionId}/qr`);
    await phone.scanQr(qr);
    await sandbox.waitForStatus(sessionId, 'connected');
    own = phone;
    recipient = sandbox.emulator.createPhone({ phoneNumber: randomPhoneNumber(), autoReadReceipt: true });
    secret = await webhookSecretOf(sessionId);
  });
  afterAll(async () => {
    await sandbox?.close();
    await receiver?.close();
  });

  /** The connection's signing secret was returned once at creation; tests read it back through a new connection-less subscription is not possible, so they rotate it. */
  async function webhookSecretOf(id: string): Promise<string> {
    const list = await sandbox.apiJson<{ items: Array<{ id: string; sessionId: string | null }> }>('/webhooks');
    const subscription = list.items.find((s) => s.sessionId === id)!;
    const rotated = await sandbox.apiJson<{ secret: string }>(`/webhooks/${subscription.id}/rotate-secret`, { method: 'POST' });
    return rotated.secret;
  }

  const send = (body: Record<string, unknown>, id = sessionId) => sandbox.api(`/connections/${id}/send`, { method: 'POST', body: JSON.stringify(body) });
  const message = (messageId: string, id = sessionId) => sandbox.apiJson(`/connections/${id}/messages/${messageId}`);
  const statusOf = (messageId: string, wanted: string[], timeoutMs = 15_000) =>
    waitFor(async () => {
      const m = await message(messageId);
      return wanted.includes(m.status) ? m : undefined;
    }, { timeoutMs, what: `message ${messageId} to be ${wanted.join('|')}` });

  it('text: sent, delivered, read, with a timestamp each; the recipient stores it once; webhooks signed', async () => {
    const messageId = randomUUID();
    const res = await send({ messageId, to: recipient.phoneNumber, type: 'text', body: 'Olá' });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ queued: true, messageId, status: 'queued' });
    const read = await statusOf(messageId, ['read']);
    for (const s of ['queued', 'sending', 'sent', 'delivered', 'read']) expect(Date.parse(read.statusTimes[s])).not.toBeNaN();
    const got = recipient.messages.filter((m) => m.id === read.waMessageId);
    expect(got).toHaveLength(1);
    expect(got[0].text).toBe('Olá');
    expect(recipient.duplicates).toBe(0);

    const statuses = await waitFor(() => {
      const seen = receiver.events('message.status').filter((w) => w.json.payload.messageId === messageId).map((w) => w.json.payload.status);
      return ['sent', 'delivered', 'read'].every((s) => seen.includes(s)) ? seen : undefined;
    }, { what: 'message.status webhooks for sent, delivered, read' });
    expect(statuses.filter((s: string) => s === 'read')).toHaveLength(1);
    const verifier = new Webhook(secret);
    const delivered = receiver.events('message.status').find((w) => w.json.payload.messageId === messageId && w.json.payload.status === 'read')!;
    expect(() => verifier.verify(delivered.body, delivered.headers)).not.toThrow();
    expect(delivered.body).not.toContain('whsec_');
  });

  it('the same messageId again is a replay (nothing sent twice); another payload is a 409', async () => {
    const messageId = randomUUID();
    const body = { messageId, to: recipient.phoneNumber, type: 'text', body: 'once' };
    expect((await send(body)).status).toBe(202);
    const sent = await statusOf(messageId, ['sent', 'delivered', 'read']);
    const replay = await send({ ...body, to: `${recipient.phoneNumber}@s.whatsapp.net` });
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const conflict = await send({ ...body, body: 'twice' });
    expect(conflict.status).toBe(409);
    expect(((await conflict.json()) as { code: string }).code).toBe('IDEMPOTENCY_CONFLICT');
    expect(recipient.messages.filter((m) => m.id === sent.waMessageId)).toHaveLength(1);
  });

  it('every message type reaches the recipient', async () => {
    const bodies = [
      { type: 'text', body: 'plain' },
      { type: 'location', location: { latitude: -23.55, longitude: -46.63, name: 'Sé' } },
      { type: 'contact', contact: { fullName: 'Ana', phoneNumber: '5511988887777' } },
      { type: 'poll', poll: { name: 'Lunch?', options: ['yes', 'no'] } },
    ];
    const ids = [];
    for (const b of bodies) {
      const messageId = randomUUID();
      expect((await send({ messageId, to: recipient.phoneNumber, ...b })).status).toBe(202);
      ids.push(messageId);
    }
    const sent = await Promise.all(ids.map((id) => statusOf(id, ['delivered', 'read'])));
    const types = sent.map((m) => recipient.messages.find((r) => r.id === m.waMessageId)?.type);
    expect(types).toEqual(['text', 'location', 'contact', 'poll']);
    const target = sent[0];
    const reaction = randomUUID();
    expect((await send({ messageId: reaction, to: recipient.phoneNumber, type: 'reaction', reaction: { targetMessageId: target.waMessageId, emoji: '👍' } })).status).toBe(202);
    const r = await statusOf(reaction, ['sent', 'delivered', 'read']);
    await waitFor(() => recipient.messages.find((m) => m.id === r.waMessageId), { what: 'the reaction at the recipient' });
    expect(recipient.messages.find((m) => m.id === r.waMessageId)!.type).toBe('reaction');
  });

  it('media: an image (base64), a voice note and a document (by URL) reach the recipient byte for byte; a private URL is refused', async () => {
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
    const voice = randomBytes(2048);
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(40_000)]);
    const files = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/pdf' }).end(pdf));
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(files.address() as AddressInfo).port}/report.pdf`;
      const sends = [
        { body: { type: 'image', media: { base64: png.toString('base64'), mimetype: 'image/png' }, caption: 'a pixel' }, file: png, type: 'image' },
        { body: { type: 'audio', media: { base64: voice.toString('base64'), mimetype: 'audio/ogg; codecs=opus' }, ptt: true }, file: voice, type: 'audio' },
        { body: { type: 'document', media: { url, mimetype: 'application/pdf', filename: 'report.pdf' } }, file: pdf, type: 'document' },
      ];
      for (const item of sends) {
        const messageId = randomUUID();
        expect((await send({ messageId, to: recipient.phoneNumber, ...item.body })).status).toBe(202);
        const sent = await statusOf(messageId, ['delivered', 'read']);
        const got = recipient.messages.find((m) => m.id === sent.waMessageId);
        expect(got?.type).toBe(item.type);
        // What the recipient's phone gets when it opens the message: downloaded from the media host, MAC-checked, decrypted.
        const res = await fetch(`${sandbox.emulator.url}/v1/phones/${recipient.phoneNumber}/messages/${sent.waMessageId}/media`);
        expect(res.status).toBe(200);
        const media = (await res.json()) as { type: string; bytes: number; sha256: string; base64: string; mimetype: string };
        expect(media).toMatchObject({ type: item.type, bytes: item.file.length, sha256: createHash('sha256').update(item.file).digest('hex') });
        expect(Buffer.from(media.base64, 'base64').equals(item.file)).toBe(true);
      }
      expect(recipient.duplicates).toBe(0);

      // A media URL on a private address that is not allowed is never fetched: failed at once.
      const refused = randomUUID();
      expect((await send({ messageId: refused, to: recipient.phoneNumber, type: 'document', media: { url: 'http://10.255.255.1/secret.pdf', mimetype: 'application/pdf' } })).status).toBe(202);
      const failed = await statusOf(refused, ['failed']);
      expect(failed).toMatchObject({ attempts: 1, error: { code: 'MEDIA_URL_REFUSED' } });
    } finally {
      files.closeAllConnections();
      await new Promise((resolve) => files.close(resolve));
    }
  });

  it('error acks: retries, then the dead-letter queue with the error; replay delivers it once', async () => {
    own.fault({ type: 'ack-error', code: '479', count: 3 });
    const messageId = randomUUID();
    expect((await send({ messageId, to: recipient.phoneNumber, type: 'text', body: 'stubborn' })).status).toBe(202);
    const failed = await statusOf(messageId, ['failed'], 20_000);
    expect(failed.attempts).toBe(3);
    expect(failed.error.code).toBe('ERROR_ACK');
    expect(failed.statusTimes.retrying).toBeDefined();
    const dead = await sandbox.apiJson<{ items: Array<{ messageId: string }> }>(`/dead-letters?sessionId=${sessionId}`);
    expect(dead.items.map((d) => d.messageId)).toContain(messageId);
    await waitFor(() => receiver.events('message.failed').some((w) => w.json.payload.messageId === messageId), { what: 'a message.failed webhook' });

    expect((await sandbox.api(`/dead-letters/${messageId}/replay?sessionId=${sessionId}`, { method: 'POST' })).status).toBe(202);
    const delivered = await statusOf(messageId, ['delivered', 'read']);
    expect(delivered.waMessageId).toBe(failed.waMessageId);
    expect(recipient.messages.filter((m) => m.id === delivered.waMessageId)).toHaveLength(1);
  });

  it('a recipient that is not on WhatsApp fails at once; an invalid one is a 400', async () => {
    const messageId = randomUUID();
    expect((await send({ messageId, to: '5599000000000', type: 'text', body: 'nobody' })).status).toBe(202);
    const failed = await statusOf(messageId, ['failed']);
    expect(failed.attempts).toBe(1);
    expect(failed.error.code).toBe('NOT_ON_WHATSAPP');
    const bad = await send({ messageId: randomUUID(), to: 'not-a-number', type: 'text', body: 'x' });
    expect(bad.status).toBe(400);
  });

  it('incoming: notify and offline append are each stored once and reach the webhook', async () => {
    const sender = sandbox.emulator.createPhone({ phoneNumber: randomPhoneNumber(), pushName: 'Bia' });
    const ownJid = `${own.phoneNumber}@s.whatsapp.net`;
    const liveId = await sender.sendText(ownJid, 'live hello');
    const stored = await waitFor(async () => {
      const list = await sandbox.apiJson<{ items: Array<{ messageId: string; status: string; content: Record<string, unknown>; from: string }> }>(`/connections/${sessionId}/messages?direction=in`);
      return list.items.find((m) => m.messageId === liveId);
    }, { what: 'the live message stored' });
    expect(stored.status).toBe('received');
    const hook = await waitFor(() => receiver.events('message.received').find((w) => w.json.payload.messageId === liveId), { what: 'message.received webhook' });
    expect(hook.json.payload).toMatchObject({ from: `${sender.phoneNumber}@s.whatsapp.net`, pushName: 'Bia', type: 'text', body: 'live hello' });

    // Offline: the gateway restarts; the message waits at the server and arrives as `append`.
    await sandbox.gateway.close();
    await waitFor(() => own.connectedDevices.length === 0, { what: 'the emulator to see the gateway gone' });
    const offlineId = await sender.sendText(ownJid, 'while you were away');
    await sandbox.startGateway();
    await sandbox.waitForStatus(sessionId, 'connected', 20_000);
    await waitFor(async () => {
      const list = await sandbox.apiJson<{ items: Array<{ messageId: string }> }>(`/connections/${sessionId}/messages?direction=in`);
      return list.items.some((m) => m.messageId === offlineId);
    }, { what: 'the offline message stored' });
    const rows = await sandbox.query(`SELECT message_id FROM messages WHERE session_id = $1 AND direction = 'in' AND message_id = ANY($2)`, [sessionId, [liveId, offlineId]]);
    expect(rows).toHaveLength(2);
  });

  it('a store that fails for a moment: incoming messages and receipts are written again until stored, and announced once', async () => {
    // Baileys has already acknowledged both to the server, which will not report them again: a write given up on is
    // lost. The worst failure is one that comes after the database applied the write (its answer lost).
    const repository = sandbox.gateway.app.get(MessagesRepository);
    const statuses = sandbox.gateway.app.get(StatusWriter);
    const events = sandbox.gateway.app.get(MessageEvents);
    const sender = sandbox.emulator.createPhone({ phoneNumber: randomPhoneNumber() });
    const reader = sandbox.emulator.createPhone({ phoneNumber: randomPhoneNumber(), autoReadReceipt: true });
    const messageId = randomUUID();
    const watched = deriveWaMessageId(sessionId, messageId);
    const lost = () => new Error('Connection terminated unexpectedly');
    const calls = { insert: 0, received: 0, read: 0 };
    const [insertIncoming, received, advanceDelivery] = [repository.insertIncoming, events.received, statuses.advanceDelivery];
    repository.insertIncoming = async function (m) {
      if (!m.from.startsWith(sender.phoneNumber)) return insertIncoming.call(this, m);
      calls.insert++;
      if (calls.insert === 1) await insertIncoming.call(this, m).then(() => Promise.reject(lost()));
      if (calls.insert === 2) throw lost();
      return insertIncoming.call(this, m);
    };
    events.received = async function (session, m) {
      if (m.from.startsWith(sender.phoneNumber) && ++calls.received === 1) throw lost();
      return received.call(this, session, m);
    };
    statuses.advanceDelivery = async function (receipt) {
      if (receipt.waMessageId === watched && receipt.status === 'read' && ++calls.read === 1) await advanceDelivery.call(this, receipt).then(() => Promise.reject(lost()));
      return advanceDelivery.call(this, receipt);
    };
    const retried = async () => {
      const text = await (await sandbox.api('/metrics')).text();
      return [...text.matchAll(/^whatsapp_report_write_failures_total\{[^}]*final="false"[^}]*\} (\S+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    };
    const before = await retried();
    try {
      const liveId = await sender.sendText(`${own.phoneNumber}@s.whatsapp.net`, 'through a hiccup');
      await waitFor(() => receiver.events('message.received').find((w) => w.json.payload.messageId === liveId), { what: 'message.received webhook' });
      expect((await send({ messageId, to: reader.phoneNumber, type: 'text', body: 'read me' })).status).toBe(202);
      await statusOf(messageId, ['read']);
      await waitFor(() => receiver.events('message.status').find((w) => w.json.payload.messageId === messageId && w.json.payload.status === 'read'), { what: 'the read webhook' });

      expect(calls).toEqual({ insert: 3, received: 2, read: 2 });
      const rows = await sandbox.query(`SELECT message_id FROM messages WHERE session_id = $1 AND direction = 'in' AND message_id = $2`, [sessionId, liveId]);
      expect(rows).toHaveLength(1);
      expect(receiver.events('message.received').filter((w) => w.json.payload.messageId === liveId)).toHaveLength(1);
      expect(receiver.events('message.status').filter((w) => w.json.payload.messageId === messageId && w.json.payload.status === 'read')).toHaveLength(1);
      expect((await retried()) - before).toBe(4);
    } finally {
      Object.assign(repository, { insertIncoming });
      Object.assign(events, { received });
      Object.assign(statuses, { advanceDelivery });
    }
  });

  it('incoming media: stored once with its metadata (type, mimetype, size, file name, SHA-256) and in the webhook', async () => {
    const sender = sandbox.emulator.createPhone({ phoneNumber: randomPhoneNumber(), pushName: 'Caio' });
    const ownJid = `${own.phoneNumber}@s.whatsapp.net`;
    const photo = randomBytes(5000);
    const sheet = randomBytes(12_000);
    const sent = [
      { id: await sender.sendMedia(ownJid, { type: 'image', data: photo, mimetype: 'image/jpeg', caption: 'the view' }), file: photo, type: 'image', mimetype: 'image/jpeg', body: 'the view' },
      { id: await sender.sendMedia(ownJid, { type: 'document', data: sheet, mimetype: 'text/csv', fileName: 'q3.csv' }), file: sheet, type: 'document', mimetype: 'text/csv', fileName: 'q3.csv' },
    ];
    for (const item of sent) {
      const stored = await waitFor(async () => {
        const list = await sandbox.apiJson<{ items: Array<{ messageId: string; type: string; content: Record<string, any> }> }>(`/connections/${sessionId}/messages?direction=in`);
        return list.items.find((m) => m.messageId === item.id);
      }, { what: `incoming ${item.type} stored` });
      const media = { mimetype: item.mimetype, fileLength: item.file.length, sha256: createHash('sha256').update(item.file).digest('base64'), ...(item.fileName && { fileName: item.fileName }) };
      expect(stored.type).toBe(item.type);
      expect(JSON.stringify(stored.content)).toContain(media.sha256);
      const hook = await waitFor(() => receiver.events('message.received').find((w) => w.json.payload.messageId === item.id), { what: `message.received for the ${item.type}` });
      expect(hook.json.payload).toMatchObject({ type: item.type, media, ...(item.body && { body: item.body }) });
    }
    const rows = await sandbox.query(`SELECT message_id FROM messages WHERE session_id = $1 AND direction = 'in' AND message_id = ANY($2)`, [sessionId, sent.map((s) => s.id)]);
    expect(rows).toHaveLength(2);
  });

  it('a logged-out connection refuses sends with 409', async () => {
    const phone = sandbox.emulator.createPhone({ phoneNumber: randomPhoneNumber() });
    const other = await sandbox.createConnection({ config: NO_PACING });
    await sandbox.waitForStatus(other, 'qr');
    await phone.scanQr((await sandbox.apiJson<{ qr: string }>(`/connections/${other}/qr`)).qr);
    await sandbox.waitForStatus(other, 'connected');
    phone.fault({ type: 'logout' });
    await sandbox.waitForStatus(other, 'logged_out');
    const res = await send({ messageId: randomUUID(), to: recipient.phoneNumber, type: 'text', body: 'x' }, other);
    expect(res.status).toBe(409);
    expect(((await res.json()) as { code: string }).code).toBe('SESSION_LOGGED_OUT');
  });

  it('a window of sends: with slow acks, several sends to a chat are under way at once and arrive in order, each once', async () => {
    const ackDelayMs = 400;
    own.fault({ type: 'ack-latency', ms: ackDelayMs });
    try {
      const ids = Array.from({ length: 6 }, () => randomUUID());
      for (const [i, messageId] of ids.entries()) expect((await send({ messageId, to: recipient.phoneNumber, type: 'text', body: `window ${i}` })).status).toBe(202);
      const sent = await Promise.all(ids.map((id) => statusOf(id, ['sent', 'delivered', 'read'])));
      const arrivals = sent.map((m) => recipient.messages.filter((r) => r.id === m.waMessageId));
      expect(arrivals.map((a) => a.length)).toEqual([1, 1, 1, 1, 1, 1]);
      const positions = sent.map((m) => recipient.messages.findIndex((r) => r.id === m.waMessageId));
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);
      // One at a time, each send would wait for the ack before it (so >= 3 x 400 ms from the first to the fourth).
      const times = arrivals.map((a) => Date.parse(a[0].receivedAt));
      expect(times[3] - times[0]).toBeLessThan(ackDelayMs);
    } finally {
      own.fault({ type: 'clear' });
    }
  });

  it('pacing: a minimum gap per recipient holds', async () => {
    await sandbox.apiJson(`/connections/${sessionId}`, { method: 'PATCH', body: JSON.stringify({ config: { pacing: { messagesPerMinute: 0, minGapPerRecipientMs: 400 } } }) });
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    for (const [i, messageId] of ids.entries()) expect((await send({ messageId, to: recipient.phoneNumber, type: 'text', body: `paced ${i}` })).status).toBe(202);
    const sent = await Promise.all(ids.map((id) => statusOf(id, ['sent', 'delivered', 'read'])));
    // When the recipient got each one: the gap is between sends, whatever the ack latency.
    const times = sent.map((m) => Date.parse(recipient.messages.find((r) => r.id === m.waMessageId)!.receivedAt)).sort((a, b) => a - b);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(390);
    await sandbox.apiJson(`/connections/${sessionId}`, { method: 'PATCH', body: JSON.stringify({ config: NO_PACING }) });
  });
}
