import { SendError } from '../../../contracts/src';
import { quotedStub, toBaileysContent, vcardOf } from './content-builder';

const to = '5511999990000@s.whatsapp.net';

describe('toBaileysContent', () => {
  it('builds text, location, contact, reaction and poll content', () => {
    expect(toBaileysContent({ to, content: { type: 'text', body: 'hi' } })).toEqual({ text: 'hi' });
    expect(toBaileysContent({ to, content: { type: 'location', location: { latitude: 1.5, longitude: -2, name: 'X' } } })).toEqual({
      location: { degreesLatitude: 1.5, degreesLongitude: -2, name: 'X', address: undefined },
    });
    const contact = toBaileysContent({ to, content: { type: 'contact', contact: { fullName: 'Ana; B', phoneNumber: '+55 11 98888-7777' } } }) as any;
    expect(contact.contacts.displayName).toBe('Ana; B');
    expect(contact.contacts.contacts[0].vcard).toContain('waid=5511988887777:+5511988887777');
    expect(toBaileysContent({ to, content: { type: 'reaction', reaction: { targetMessageId: 'ABC', emoji: '👍', targetFromMe: true } } })).toEqual({
      react: { text: '👍', key: { remoteJid: to, id: 'ABC', fromMe: true } },
    });
    expect(toBaileysContent({ to, content: { type: 'poll', poll: { name: 'Q', options: ['a', 'b'] } } })).toEqual({ poll: { name: 'Q', values: ['a', 'b'], selectableCount: 1 } });
  });

  it('builds media content from base64 (bytes) or a URL, with mimetype, caption, file name and voice flag', () => {
    const bytes = Buffer.from('fake image');
    const image = toBaileysContent({ to, content: { type: 'image', media: { base64: bytes.toString('base64'), mimetype: 'image/jpeg' }, caption: 'look' } }) as any;
    expect(Buffer.isBuffer(image.image) && image.image.equals(bytes)).toBe(true);
    expect(image).toMatchObject({ caption: 'look', mimetype: 'image/jpeg' });
    const doc = toBaileysContent({ to, content: { type: 'document', media: { url: 'https://files.example/a.pdf', mimetype: 'application/pdf', filename: 'a.pdf' } } }) as any;
    expect(doc).toMatchObject({ document: { url: 'https://files.example/a.pdf' }, fileName: 'a.pdf', mimetype: 'application/pdf' });
    const voice = toBaileysContent({ to, content: { type: 'audio', media: { base64: 'AAAA', mimetype: 'audio/ogg; codecs=opus' }, ptt: true } }) as any;
    expect(voice.ptt).toBe(true);
    expect(toBaileysContent({ to, content: { type: 'video', media: { url: 'https://v.example/v.mp4', mimetype: 'video/mp4' } } })).toHaveProperty('video');
    expect(toBaileysContent({ to, content: { type: 'sticker', media: { base64: 'AAAA', mimetype: 'image/webp' } } })).toHaveProperty('sticker');
  });

  it('refuses media with neither url nor data', () => {
    expect(() => toBaileysContent({ to, content: { type: 'image', media: { mimetype: 'image/png' } } })).toThrow(SendError);
  });

  it('builds the quoted stub for replies only', () => {
    expect(quotedStub({ to, content: { type: 'text', body: 'x' } })).toBeUndefined();
    expect(quotedStub({ to, content: { type: 'text', body: 'x' }, quotedWaMessageId: 'Q1', quotedFromMe: true })?.key).toEqual({ remoteJid: to, id: 'Q1', fromMe: true });
  });

  it('escapes vCard separators', () => {
    expect(vcardOf('A,B', '123')).toContain('FN:A\\,B');
  });
});
