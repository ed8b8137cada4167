import { createValidationPipe } from '../../http/src/validation';
import { ProblemException } from '../../http/src/problem.exception';
import { SendBodyPipe, SendQueryPipe, plainTextSend } from './send-body.pipe';
import { SendMessageDto, SendQueryDto } from './send.dto';

const metadata = { type: 'body' as const, metatype: Object };
const full = createValidationPipe(SendMessageDto);

/** What the full validation makes of a body: the DTO, or the refusal. */
async function fullValidation(body: unknown): Promise<{ ok: true; dto: unknown } | { ok: false; error: unknown }> {
  try {
    return { ok: true, dto: await full.transform(structuredClone(body), metadata) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** A small seeded generator, so that a failure names a body that can be replayed. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  return { next, pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] };
}

const MESSAGE_IDS = ['m1', 'order-42.a:b@c_d', 'x'.repeat(128), 'x'.repeat(129), '', 'with space', 'ümlaut', 'a/b', 7, null];
const RECIPIENTS = ['5534999999999', '+5534999999999', ' 5534999999999 ', '5534999999999@s.whatsapp.net', '120363025246125486@g.us', '12345@lid', '5534999999999@c.us', '12345', 'abc', '', 5534999999999, null];
const BODIES = ['Olá', ' ', '', 'x'.repeat(65536), 'x'.repeat(65537), '😀'.repeat(32768), '😀'.repeat(32769), 'a\nb', 12, null, ['a'], { text: 'a' }];
const QUOTED = ['q1', '', 'q'.repeat(128), 'q'.repeat(129), null, 3];
const TYPES = ['text', 'text', 'text', 'image', 'TEXT', '', null, 1];
const EXTRA_MEMBERS: Array<[string, unknown]> = [
  ['caption', 'c'],
  ['scheduledAt', '2030-01-01T12:00:00Z'],
  ['scheduledAt', 'tomorrow'],
  ['media', { url: 'https://example.com/a.jpg', mimetype: 'image/jpeg' }],
  ['unknown', 1],
  ['__proto__', { polluted: true }],
  ['constructor', 'x'],
];

function randomBody(seed: number): unknown {
  const r = random(seed);
  const shape = r.next();
  if (shape < 0.03) return r.pick([null, [], 'text', 42, [{ type: 'text' }]]);
  // Mostly the first (valid) values, so that many bodies are valid and the rest differ from a valid one in a few places.
  const choose = <T>(values: readonly T[], valid: number) => (r.next() < 0.7 ? values[Math.floor(r.next() * valid)] : r.pick(values));
  const body: Record<string, unknown> = {};
  if (r.next() < 0.95) body.messageId = choose(MESSAGE_IDS, 3);
  if (r.next() < 0.95) body.to = choose(RECIPIENTS, 6);
  if (r.next() < 0.97) body.type = choose(TYPES, 3);
  if (r.next() < 0.93) body.body = choose(BODIES, 6);
  if (r.next() < 0.25) body.quotedMessageId = choose(QUOTED, 1);
  if (r.next() < 0.2) {
    const [key, value] = r.pick(EXTRA_MEMBERS);
    // As JSON.parse would make it: an own member even for __proto__.
    Object.defineProperty(body, key, { value, enumerable: true, configurable: true, writable: true });
  }
  return body;
}

describe('send body validation fast path', () => {
  it('never accepts a body the full validation refuses, and makes the same DTO when both accept', async () => {
    let fast = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const body = randomBody(seed);
      const quick = plainTextSend(structuredClone(body));
      if (!quick) continue;
      fast++;
      const outcome = await fullValidation(body);
      if (!outcome.ok) throw new Error(`seed ${seed}: the fast path accepted ${JSON.stringify(body).slice(0, 200)}, the full validation refused it`);
      expect(quick).toBeInstanceOf(SendMessageDto);
      expect({ ...quick }).toEqual({ ...(outcome.dto as object) });
    }
    // Not vacuous: a good share of the generated bodies are plain valid texts.
    expect(fast).toBeGreaterThan(300);
  });

  it.each([
    [{ messageId: 'm1', to: '5534999999999', type: 'text', body: 'Olá' }],
    [{ messageId: 'm2', to: '120363025246125486@g.us', type: 'text', body: 'hi', quotedMessageId: 'm1' }],
  ])('takes the fast path for a plain text send %#', (body) => {
    expect(plainTextSend(body)).toEqual(Object.assign(new SendMessageDto(), body));
  });

  it.each([
    [{ messageId: 'm1', to: '5534999999999', type: 'text', body: 'Olá', scheduledAt: '2030-01-01T12:00:00Z' }],
    [{ messageId: 'm1', to: '5534999999999', type: 'image', media: { url: 'https://example.com/a.jpg', mimetype: 'image/jpeg' } }],
    [{ messageId: 'm1', to: '5534999999999', type: 'text', body: 'Olá', quotedMessageId: null }],
  ])('leaves anything else to the full validation %#', async (body) => {
    expect(plainTextSend(body)).toBeUndefined();
    expect((await fullValidation(body)).ok).toBe(true);
  });

  it('answers an invalid body with the full validation problem document', async () => {
    const pipe = new SendBodyPipe();
    const refusal = await pipe.transform({ messageId: 'm1', to: 'abc', type: 'text', body: '' }, metadata).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ProblemException);
    const fields = ((refusal as ProblemException).extensions.errors as Array<{ field: string }>).map((e) => e.field);
    expect(fields.sort()).toEqual(['body', 'to']);
  });
});

describe('send query validation', () => {
  const pipe = new SendQueryPipe();
  const fullQuery = createValidationPipe(SendQueryDto);

  it.each([[{}], [{ wait: 'sent' }]])('answers %j as the full validation does', async (query) => {
    const quick = await pipe.transform(query, { type: 'query', metatype: Object });
    expect(quick).toBeInstanceOf(SendQueryDto);
    expect({ ...quick }).toEqual({ ...(await fullQuery.transform(structuredClone(query), { type: 'query', metatype: Object })) });
  });

  it.each([[{ wait: 'yes' }], [{ wait: ['sent', 'sent'] }], [{ other: '1' }]])('refuses %j with a 400 problem document', async (query) => {
    const refusal = await pipe.transform(query, { type: 'query', metatype: Object }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ProblemException);
    expect((refusal as ProblemException).status).toBe(400);
  });
});
