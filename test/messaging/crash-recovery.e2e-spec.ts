import { randomUUID } from 'node:crypto';
import { WaEmulator } from '../../libs/wa-emulator/src';
import { authHeaders, ChildGateway, spawnGateway, tempDir, TEST_ADMIN_KEY, TEST_CREDENTIALS_KEY, untilListening } from '../support/gateway';
import { FAST_RUNTIME, json, randomPhoneNumber } from '../support/sandbox';
import { createTestDatabase, describeWithServices, TEST_REDIS_URL, uniquePrefix, waitFor } from '../support/services';
import '../emulator/support/gateway-client';

const MESSAGES = 200;

/**
 * A crash at any point loses no accepted message and sends none twice: 200
 * messages in flight, the process that sends them killed with SIGKILL, then
 * started again; the recipient holds every message exactly once.
 */
function crashRecovery(mode: () => Promise<Record<string, string>>): void {
  let emulator: WaEmulator;
  let env: Record<string, string>;
  const children: ChildGateway[] = [];

  beforeAll(async () => {
    emulator = await WaEmulator.start({ port: 0 });
    env = {
      ...FAST_RUNTIME,
      ADMIN_API_KEY: TEST_ADMIN_KEY,
      CREDENTIALS_KEY: TEST_CREDENTIALS_KEY,
      WA_SANDBOX_URL: emulator.url,
      RATE_LIMIT_MAX: '100000',
      SEND_RETRY_BASE_DELAY_MS: '200',
      LEASE_TTL_MS: '3000',
      LEASE_RENEW_INTERVAL_MS: '500',
      LEASE_SAFETY_MARGIN_MS: '1000',
      ...(await mode()),
    };
  });
  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop('SIGKILL')));
    await emulator?.close();
  });

  const start = async () => {
    const child = spawnGateway(env);
    children.push(child);
    return { child, url: await untilListening(child, 60_000) };
  };

  it('200 messages in flight, SIGKILL, restart: each delivered exactly once', async () => {
    let { child, url } = await start();
    const call = async (path: string, init: RequestInit = {}) => fetch(`${url}${path}`, { ...init, headers: { ...json, ...authHeaders(), ...(init.headers as Record<string, string>) } });
    const statusOf = async (sessionId: string) => ((await (await call(`/connections/${sessionId}`)).json()) as { status: string }).status;

    const own = emulator.createPhone({ phoneNumber: randomPhoneNumber() });
    const recipient = emulator.createPhone({ phoneNumber: randomPhoneNumber() });
    const { sessionId } = (await (await call('/connections', { method: 'POST', body: JSON.stringify({ config: { pacing: { messagesPerMinute: 0, minGapPerRecipientMs: 0 } } }) })).json()) as { sessionId: string };
    await waitFor(async () => (await statusOf(sessionId)) === 'qr', { timeoutMs: 20_000, what: 'qr' });
    await own.scanQr(((await (await call(`/connections/${sessionId}/qr`)).json()) as { qr: string }).qr);
    await waitFor(async () => (await statusOf(sessionId)) === 'connected', { timeoutMs: 20_000, what: 'connected' });

    const sends = Array.from({ length: MESSAGES }, (_, i) => ({ messageId: randomUUID(), to: recipient.phoneNumber, type: 'text', body: `crash-test ${i}` }));
    // Slow acks keep many sends in flight when the process dies.
    own.fault({ type: 'ack-latency', ms: 30 });
    for (let i = 0; i < sends.length; i += 25) {
      const batch = await Promise.all(sends.slice(i, i + 25).map((body) => call(`/connections/${sessionId}/send`, { method: 'POST', body: JSON.stringify(body) })));
      expect(batch.map((r) => r.status)).toEqual(batch.map(() => 202));
    }
    await waitFor(() => recipient.messages.length >= 20, { timeoutMs: 30_000, what: 'some messages to arrive before the crash' });
    await child.stop('SIGKILL');
    const atCrash = recipient.messages.length;
    expect(atCrash).toBeLessThan(MESSAGES);
    own.fault({ type: 'clear' });

    ({ child, url } = await start());
    await waitFor(() => recipient.messages.length >= MESSAGES, { timeoutMs: 150_000, intervalMs: 100, what: `all ${MESSAGES} messages at the recipient` });
    // Replaying every request after the restart sends nothing again.
    for (let i = 0; i < sends.length; i += 50) {
      const replays = await Promise.all(sends.slice(i, i + 50).map((body) => call(`/connections/${sessionId}/send`, { method: 'POST', body: JSON.stringify(body) })));
      expect(replays.every((r) => r.status === 200 && r.headers.get('idempotent-replayed') === 'true')).toBe(true);
    }
    const ids = recipient.messages.map((m) => m.id);
    const texts = recipient.messages.map((m) => m.text);
    expect(new Set(ids).size).toBe(MESSAGES);
    expect(new Set(texts).size).toBe(MESSAGES);
    expect(recipient.messages).toHaveLength(MESSAGES);
    expect(texts.sort()).toEqual(sends.map((s) => s.body).sort());
  }, 240_000);
}

describe('crash recovery, embedded (PGlite and the database queue)', () => {
  crashRecovery(async () => ({ DATA_DIR: tempDir() }));
});

describeWithServices(['postgres', 'redis'], 'crash recovery, distributed (PostgreSQL and BullMQ)', () => {
  let drop: () => Promise<void> = async () => undefined;
  afterAll(() => drop());
  crashRecovery(async () => {
    const db = await createTestDatabase();
    drop = db.drop;
    return { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: uniquePrefix('crash') };
  });
});
