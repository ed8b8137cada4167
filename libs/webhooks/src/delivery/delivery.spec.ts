import { Webhook } from 'standardwebhooks';
import { deliveryJobId, fanoutJobId } from '../jobs';
import { SecretBox } from '../subscriptions/secret-box';
import { nextAttemptDelayMs, parseRetryAfter } from './retry-schedule';
import { generateSecret, signatureHeader } from './signing';

describe('signing', () => {
  it('produces signatures the standardwebhooks package verifies, one per secret', () => {
    const [a, b] = [generateSecret(), generateSecret()];
    const body = JSON.stringify({ event: 'message.received', payload: { body: 'Olá' } });
    const timestamp = Math.floor(Date.now() / 1000);
    const header = signatureHeader([a, b], 'evt_1', timestamp, body);
    const headers = { 'webhook-id': 'evt_1', 'webhook-timestamp': String(timestamp), 'webhook-signature': header };
    expect(header.split(' ')).toHaveLength(2);
    expect(new Webhook(a).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(b).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow();
  });

  it('generates whsec_ secrets of 32 random bytes', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(generateSecret()).not.toBe(secret);
  });
});

describe('SecretBox', () => {
  it('round-trips and detects tampering or a wrong key', () => {
    const box = new SecretBox(Buffer.alloc(32, 3));
    const sealed = box.seal('whsec_abc');
    expect(sealed).not.toContain('abc');
    expect(box.open(sealed)).toBe('whsec_abc');
    expect(() => new SecretBox(Buffer.alloc(32, 4)).open(sealed)).toThrow();
    const parts = sealed.split('.');
    parts[3] = Buffer.from('whsec_abd').toString('base64url');
    expect(() => box.open(parts.join('.'))).toThrow();
  });
});

describe('retry schedule', () => {
  const schedule = [0, 5000, 300_000];

  it('follows the schedule and stops when it is spent', () => {
    expect(nextAttemptDelayMs(schedule, 1, null, 3600_000)).toBe(5000);
    expect(nextAttemptDelayMs(schedule, 2, null, 3600_000)).toBe(300_000);
    expect(nextAttemptDelayMs(schedule, 3, null, 3600_000)).toBeNull();
  });

  it('lets Retry-After lengthen a wait up to the bound, never shorten it', () => {
    expect(nextAttemptDelayMs(schedule, 1, 60_000, 3600_000)).toBe(60_000);
    expect(nextAttemptDelayMs(schedule, 1, 1000, 3600_000)).toBe(5000);
    expect(nextAttemptDelayMs(schedule, 1, 86_400_000, 3600_000)).toBe(3600_000);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});

describe('job ids', () => {
  it('are stable per attempt and free of characters BullMQ refuses', () => {
    expect(deliveryJobId({ deliveryId: 'd1', replays: 0, attempt: 1 })).toBe('d1');
    expect(deliveryJobId({ deliveryId: 'd1', replays: 0, attempt: 2 })).toBe('d1.0.2');
    expect(deliveryJobId({ deliveryId: 'd1', replays: 1, attempt: 1 })).toBe('d1.1.1');
    expect(fanoutJobId('s1:m1:delivered')).toBe(fanoutJobId('s1:m1:delivered'));
    expect(fanoutJobId('s1:m1:delivered')).not.toContain(':');
    expect(fanoutJobId('a')).not.toBe(fanoutJobId('b'));
  });
});
