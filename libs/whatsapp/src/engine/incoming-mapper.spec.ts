import { proto, type WAMessage } from '@whiskeysockets/baileys';
import { toDeliveryStatus, toIncomingMessage } from './incoming-mapper';

const own = '5511900000001:3@s.whatsapp.net';
const base = (message: proto.IMessage, extra: Partial<WAMessage> = {}): WAMessage =>
  ({ key: { id: 'ID1', remoteJid: '5511988887777@s.whatsapp.net', fromMe: false }, message, messageTimestamp: 1_700_000_000, pushName: 'Bia', ...extra }) as WAMessage;

describe('toIncomingMessage', () => {
  it('maps a text message', () => {
    expect(toIncomingMessage(base({ conversation: 'oi' }), 'notify', own)).toMatchObject({
      waMessageId: 'ID1',
      chat: '5511988887777@s.whatsapp.net',
      from: '5511988887777@s.whatsapp.net',
      to: '5511900000001@s.whatsapp.net',
      pushName: 'Bia',
      type: 'text',
      body: 'oi',
      timestamp: '2023-11-14T22:13:20.000Z',
      delivery: 'notify',
    });
    expect(toIncomingMessage(base({ extendedTextMessage: { text: 'long' } }), 'append', own)).toMatchObject({ type: 'text', body: 'long', delivery: 'append' });
  });

  it('keeps media metadata and captions, never bytes', () => {
    const m = toIncomingMessage(base({ imageMessage: { caption: 'see', mimetype: 'image/jpeg', fileLength: 1234, fileSha256: Buffer.from([1, 2, 3]) } }), 'notify', own)!;
    expect(m).toMatchObject({ type: 'image', body: 'see', media: { mimetype: 'image/jpeg', fileLength: 1234, sha256: 'AQID' } });
  });

  it('skips our own messages, protocol messages and the undecrypted placeholder', () => {
    expect(toIncomingMessage(base({ conversation: 'x' }, { key: { id: 'A', remoteJid: 'x@s.whatsapp.net', fromMe: true } }), 'notify', own)).toBeUndefined();
    expect(toIncomingMessage(base({ protocolMessage: { type: proto.Message.ProtocolMessage.Type.HISTORY_SYNC_NOTIFICATION } }), 'notify', own)).toBeUndefined();
    expect(toIncomingMessage(base({}, { message: null, messageStubType: proto.WebMessageInfo.StubType.CIPHERTEXT }), 'notify', own)).toBeUndefined();
  });
});

describe('toDeliveryStatus', () => {
  it('maps receipts and ignores the server ack status', () => {
    expect(toDeliveryStatus(proto.WebMessageInfo.Status.DELIVERY_ACK)).toBe('delivered');
    expect(toDeliveryStatus(proto.WebMessageInfo.Status.READ)).toBe('read');
    expect(toDeliveryStatus(proto.WebMessageInfo.Status.PLAYED)).toBe('played');
    expect(toDeliveryStatus(proto.WebMessageInfo.Status.ERROR)).toBe('error');
    expect(toDeliveryStatus(proto.WebMessageInfo.Status.SERVER_ACK)).toBeUndefined();
  });
});
