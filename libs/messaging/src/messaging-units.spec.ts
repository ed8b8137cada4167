import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { canonicalJson, payloadHash } from './canonical-json';
import { base64DecodedBytes, essenceOf } from '../../contracts/src/media-rules';
import { advancesTo, impliedDeliveryStatuses, statusRank } from './message-status';
import { normaliseSend } from './outgoing-payload';
import { normaliseRecipient } from './recipient';
import { SendOrder } from './send-order';
import { SendPacer, pacingOf } from './send-pacer';
import { SendMessageDto } from './send.dto';
import { WA_MESSAGE_ID_SHAPE, deriveWaMessageId } from './wa-message-id';

const dto = (body: Record<string, unknown>) => plainToInstance(SendMessageDto, body);
const flat = (e: ValidationError): string[] => [...(e.constraints ? [e.property] : []), ...(e.children ?? []).flatMap((c) => flat(c).map((f) => `${e.property}.${f}`))];
const fieldsOf = (body: Record<string, unknown>) => validateSync(dto(body), { whitelist: true, forbidNonWhitelisted: true }).flatMap(flat);

describe('recipient normalisation', () => {
  it.each([
    ['5534999999999', '5534999999999@s.whatsapp.net'],
    ['+5534999999999', '5534999999999@s.whatsapp.net'],
    ['5534999999999@s.whatsapp.net', '5534999999999@s.whatsapp.net'],
    ['120363025246125486@g.us', '120363025246125486@g.us'],
    ['5511999999999-1600000000@g.us', '5511999999999-1600000000@g.us'],
    ['123456789012345@lid', '123456789012345@lid'],
  ])('%s -> %s', (input, jid) => expect(normaliseRecipient(input)).toBe(jid));

  it.each(['', 'abc', '12345', '5534999999999@c.us', '5534999999999:3@s.whatsapp.net', 'status@broadcast', '55 34 9999', '1234567890123456789', 'x@g.us'])(
    'refuses %j',
    (input) => expect(normaliseRecipient(input)).toBeUndefined(),
  );
});

describe('payload normalisation and hashing', () => {
  const base = { messageId: 'm1', to: '5534999999999', type: 'text', body: 'Olá' };

  it('refuses a NUL character (PostgreSQL cannot store it) with a 400 naming the field', () => {
    const refusal = (body: Record<string, unknown>) => {
      try {
        normaliseSend(dto(body), { mediaMaxBytes: 1024 });
        return undefined;
      } catch (error) {
        return error as { status: number; extensions: { errors: Array<{ field: string }> } };
      }
    };
    expect(refusal({ ...base, body: 'a\u0000b' })?.status).toBe(400);
    expect(refusal({ ...base, body: 'a\u0000b' })?.extensions.errors[0].field).toBe('body');
    expect(refusal({ ...base, type: 'location', body: undefined, location: { latitude: 1, longitude: 2, name: 'x\u0000' } })?.extensions.errors[0].field).toBe('location.name');
    expect(refusal(base)).toBeUndefined();
  });

  it('hashes equal payloads equally whatever the key order and the form of `to`', () => {
    const a = normaliseSend(dto(base), { mediaMaxBytes: 1024 });
    const b = normaliseSend(dto({ body: 'Olá', type: 'text', to: '5534999999999@s.whatsapp.net', messageId: 'm1' }), { mediaMaxBytes: 1024 });
    expect(a).toEqual({ to: '5534999999999@s.whatsapp.net', content: { type: 'text', body: 'Olá' } });
    expect(payloadHash(a)).toBe(payloadHash(b));
    expect(canonicalJson({ b: 1, a: { d: undefined, c: [2, 1] } })).toBe('{"a":{"c":[2,1]},"b":1}');
  });

  it('hashes different payloads differently', () => {
    const a = normaliseSend(dto(base), { mediaMaxBytes: 1024 });
    const b = normaliseSend(dto({ ...base, body: 'Ola' }), { mediaMaxBytes: 1024 });
    const c = normaliseSend(dto({ ...base, scheduledAt: '2030-01-01T00:00:00Z' }), { mediaMaxBytes: 1024, now: new Date('2029-06-01T00:00:00Z') });
    expect(new Set([payloadHash(a), payloadHash(b), payloadHash(c)]).size).toBe(3);
    expect(c.scheduledAt).toBe('2030-01-01T00:00:00.000Z');
  });

  it('checks media mimetype and decoded size per type', () => {
    const image = (media: Record<string, unknown>) => normaliseSend(dto({ ...base, body: undefined, type: 'image', media }), { mediaMaxBytes: 4 });
    expect(image({ base64: 'AAAA', mimetype: 'image/png' }).content).toMatchObject({ type: 'image', media: { base64: 'AAAA' } });
    expect(() => image({ base64: 'AAAAAAAA', mimetype: 'image/png' })).toThrow(expect.objectContaining({ status: 413 }));
    expect(() => image({ base64: 'AAAA', mimetype: 'video/mp4' })).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => image({ base64: 'not base64!', mimetype: 'image/png' })).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => image({ url: 'ftp://example.com/a.png', mimetype: 'image/png' })).toThrow(expect.objectContaining({ status: 400 }));
    expect(base64DecodedBytes('AAAA')).toBe(3);
    expect(base64DecodedBytes('AAA=')).toBe(2);
    expect(base64DecodedBytes('AA==')).toBe(1);
    expect(essenceOf('audio/ogg; codecs=opus')).toBe('audio/ogg');
  });
});

describe('send validation by type', () => {
  it('accepts one valid message of every type', () => {
    const common = { messageId: 'k', to: '5534999999999' };
    const media = { url: 'https://example.com/f', mimetype: 'image/jpeg' };
    for (const body of [
      { type: 'text', body: 'hi' },
      { type: 'image', media, caption: 'c' },
      { type: 'audio', media: { ...media, mimetype: 'audio/ogg; codecs=opus' }, ptt: true },
      { type: 'document', media: { base64: 'AAAA', mimetype: 'application/pdf', filename: 'a.pdf' } },
      { type: 'location', location: { latitude: -18.9, longitude: -48.2, name: 'x' } },
      { type: 'contact', contact: { fullName: 'Ana', phoneNumber: '+5534999999999' } },
      { type: 'contact', contact: { vcard: 'BEGIN:VCARD\nVERSION:3.0\nFN:Ana\nEND:VCARD' } },
      { type: 'reaction', reaction: { targetMessageId: 'm0', emoji: '👍' } },
      { type: 'poll', poll: { name: 'Q', options: ['a', 'b'], selectableCount: 1 } },
    ]) {
      expect({ body, fields: fieldsOf({ ...common, ...body }) }).toEqual({ body, fields: [] });
    }
  });

  it.each([
    [{ type: 'text' }, 'body'],
    [{ type: 'text', body: 'x', media: { url: 'https://a/b', mimetype: 'image/png' } }, 'media'],
    [{ type: 'image', media: { mimetype: 'image/png' } }, 'media'],
    [{ type: 'image', media: { url: 'https://a/b', base64: 'AAAA', mimetype: 'image/png' } }, 'media'],
    [{ type: 'location', location: { latitude: 91, longitude: 0 } }, 'location.latitude'],
    [{ type: 'contact', contact: { fullName: 'Ana' } }, 'contact'],
    [{ type: 'poll', poll: { name: 'Q', options: ['a'] } }, 'poll.options'],
    [{ type: 'poll', poll: { name: 'Q', options: ['a', 'a'] } }, 'poll.options'],
    [{ type: 'poll', poll: { name: 'Q', options: ['a', 'b'], selectableCount: 3 } }, 'poll.selectableCount'],
    [{ type: 'poll', poll: { name: 'Q', options: Array.from({ length: 13 }, (_, i) => `o${i}`) } }, 'poll.options'],
    [{ type: 'reaction', reaction: { emoji: '👍' } }, 'reaction.targetMessageId'],
    [{ type: 'text', body: 'x', ptt: true }, 'ptt'],
    [{ type: 'sms', body: 'x' }, 'type'],
  ])('%j fails on %s', (body, field) => {
    expect(fieldsOf({ messageId: 'k', to: '5534999999999', ...body })).toContain(field);
  });
});

describe('WhatsApp id derivation', () => {
  it('is deterministic per (session, messageId) and has the shape of Baileys ids', () => {
    const id = deriveWaMessageId('s1', 'm1');
    expect(id).toMatch(WA_MESSAGE_ID_SHAPE);
    expect(id).toHaveLength(22);
    expect(deriveWaMessageId('s1', 'm1')).toBe(id);
    expect(deriveWaMessageId('s2', 'm1')).not.toBe(id);
    expect(deriveWaMessageId('s1', 'm2')).not.toBe(id);
  });
});

describe('status ordering', () => {
  it('moves only forward', () => {
    expect(advancesTo('sent', 'delivered')).toBe(true);
    expect(advancesTo('read', 'delivered')).toBe(false);
    expect(advancesTo('sending', 'read')).toBe(true);
    expect(advancesTo('played', 'read')).toBe(false);
    expect(statusRank('queued')).toBe(statusRank('retrying'));
    expect(impliedDeliveryStatuses('read')).toEqual(['sent', 'delivered', 'read']);
  });
});

describe('pacing', () => {
  it('spaces a session evenly and a recipient by its minimum gap', () => {
    const pacer = new SendPacer();
    const pacing = { messagesPerMinute: 60, minGapPerRecipientMs: 3000 };
    expect(pacer.delayMs('s', 'a', pacing, 0)).toBe(0);
    pacer.record('s', 'a', pacing, 0);
    expect(pacer.delayMs('s', 'b', pacing, 0)).toBe(1000);
    expect(pacer.delayMs('s', 'a', pacing, 1000)).toBe(2000);
    expect(pacer.delayMs('other', 'a', pacing, 0)).toBe(0);
    expect(pacer.delayMs('s', 'a', { messagesPerMinute: 0, minGapPerRecipientMs: 0 }, 0)).toBe(0);
    expect(pacingOf({ pacing: { messagesPerMinute: 0 } }, { messagesPerMinute: 20, minGapPerRecipientMs: 3000 })).toEqual({ messagesPerMinute: 0, minGapPerRecipientMs: 3000 });
  });
});

describe('send order within a connection', () => {
  const settled = async (promise: Promise<void>) => {
    let done = false;
    void promise.then(() => (done = true));
    // Let every already-resolved link of the chain run.
    for (let i = 0; i < 10; i++) await Promise.resolve();
    return done;
  };

  it('lets each send go once the one before it has left, whatever order they leave in', async () => {
    const order = new SendOrder();
    const [a, b, c] = [order.enter('s1'), order.enter('s1'), order.enter('s1')];
    const other = order.enter('s2');
    expect(await settled(a.ready)).toBe(true);
    expect(await settled(other.ready)).toBe(true);
    expect(await settled(b.ready)).toBe(false);
    // The third leaving early (it gave up) does not let it, or anything, overtake the first.
    c.leave();
    expect(await settled(b.ready)).toBe(false);
    a.leave();
    expect(await settled(b.ready)).toBe(true);
    expect(await settled(c.ready)).toBe(false);
    b.leave();
    b.leave();
    expect(await settled(c.ready)).toBe(true);
    other.leave();
    await settled(Promise.resolve());
    expect(order.size).toBe(0);
  });
});
