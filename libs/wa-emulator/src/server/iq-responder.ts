import type { BinaryNode } from '../baileys';
import type { LinkedDevice } from '../accounts/linked-device';
import type { PhoneAccount } from '../accounts/phone';
import type { PreKeyBundle } from '../accounts/signal-endpoint';
import type { MediaConnInfo } from '../media/media-host';
import { bigEndian, bytes, child, childrenByTag, children, iqResult, leaf, uintOf } from './nodes';

/** What the IQ answers need to know about the emulated network. */
export interface Directory {
  resolve(jid: string): { phone: PhoneAccount; deviceId: number } | undefined;
  findByPhoneNumber(digits: string): PhoneAccount | undefined;
  bundleFor(phone: PhoneAccount, deviceId: number): Promise<PreKeyBundle | undefined>;
}

/**
 * Answers the server queries Baileys makes after login. Anything unknown gets
 * an empty result: an unanswered IQ would hang the client for a minute.
 * Returns undefined for IQs the session handles itself (md, passive).
 */
export async function answerIq(iq: BinaryNode, device: LinkedDevice, directory: Directory, media?: MediaConnInfo): Promise<BinaryNode> {
  const xmlns = iq.attrs.xmlns;
  const first = children(iq)[0];
  switch (xmlns) {
    case 'encrypt':
      return answerEncrypt(iq, first, device, directory);
    case 'usync':
      return answerUsync(iq, directory);
    case 'abt':
    case 'w':
      if (first?.tag === 'props') return iqResult(iq, [{ tag: 'props', attrs: { protocol: first.attrs.protocol ?? '1', hash: 'emulator' }, content: [] }]);
      return iqResult(iq);
    case 'blocklist':
      return iqResult(iq, [{ tag: 'list', attrs: {}, content: [] }]);
    case 'privacy':
      if (iq.attrs.type === 'get') return iqResult(iq, [{ tag: 'privacy', attrs: {}, content: [] }]);
      return iqResult(iq);
    case 'w:sync:app:state':
      return answerAppStateSync(iq);
    case 'w:m':
      if (first?.tag === 'media_conn' && media) return iqResult(iq, [mediaConnNode(media)]);
      return iqResult(iq);
    default:
      return iqResult(iq);
  }
}

async function answerEncrypt(iq: BinaryNode, first: BinaryNode | undefined, device: LinkedDevice, directory: Directory): Promise<BinaryNode> {
  if (iq.attrs.type === 'get' && first?.tag === 'count') {
    return iqResult(iq, [{ tag: 'count', attrs: { value: String(device.preKeys.size) } }]);
  }
  if (iq.attrs.type === 'get' && first?.tag === 'digest') {
    return iqResult(iq, [{ tag: 'digest', attrs: {}, content: [] }]);
  }
  if (iq.attrs.type === 'get' && first?.tag === 'key') {
    return iqResult(iq, [{ tag: 'list', attrs: {}, content: await bundlesFor(childrenByTag(first, 'user'), directory) }]);
  }
  if (iq.attrs.type === 'set' && child(iq, 'list')) {
    device.storeUpload({
      registrationId: uintOf(child(iq, 'registration')),
      identityKey: bytes(child(iq, 'identity')),
      signedPreKey: readSignedPreKey(child(iq, 'skey')),
      preKeys: childrenByTag(child(iq, 'list'), 'key').flatMap((k) => {
        const id = uintOf(child(k, 'id'));
        const publicKey = bytes(child(k, 'value'));
        return id !== undefined && publicKey ? [{ id, publicKey }] : [];
      }),
    });
    return iqResult(iq);
  }
  if (iq.attrs.type === 'set' && first?.tag === 'rotate') {
    device.storeUpload({ signedPreKey: readSignedPreKey(child(first, 'skey')), preKeys: [] });
    return iqResult(iq);
  }
  return iqResult(iq);
}

function readSignedPreKey(skey: BinaryNode | undefined): LinkedDevice['registration']['signedPreKey'] | undefined {
  const keyId = uintOf(child(skey, 'id'));
  const publicKey = bytes(child(skey, 'value'));
  const signature = bytes(child(skey, 'signature'));
  return keyId !== undefined && publicKey && signature ? { keyId, publicKey, signature } : undefined;
}

async function bundlesFor(users: BinaryNode[], directory: Directory): Promise<BinaryNode[]> {
  const nodes: BinaryNode[] = [];
  for (const user of users) {
    const jid = user.attrs.jid;
    const target = jid ? directory.resolve(jid) : undefined;
    const bundle = target ? await directory.bundleFor(target.phone, target.deviceId) : undefined;
    if (!bundle) {
      nodes.push({ tag: 'user', attrs: { jid }, content: [{ tag: 'error', attrs: { code: '404', text: 'item-not-found' } }] });
      continue;
    }
    const content: BinaryNode[] = [
      leaf('registration', bigEndian(bundle.registrationId, 4)),
      leaf('type', Buffer.from([5])),
      leaf('identity', bundle.identityKey),
      {
        tag: 'skey',
        attrs: {},
        content: [
          leaf('id', bigEndian(bundle.signedPreKey.keyId, 3)),
          leaf('value', bundle.signedPreKey.publicKey),
          leaf('signature', bundle.signedPreKey.signature),
        ],
      },
    ];
    if (bundle.preKey) {
      content.push({ tag: 'key', attrs: {}, content: [leaf('id', bigEndian(bundle.preKey.keyId, 3)), leaf('value', bundle.preKey.publicKey)] });
    }
    nodes.push({ tag: 'user', attrs: { jid }, content });
  }
  return nodes;
}

function answerUsync(iq: BinaryNode, directory: Directory): BinaryNode {
  const usync = child(iq, 'usync');
  const protocols = children(child(usync, 'query')).map((p) => p.tag);
  const users = childrenByTag(child(usync, 'list'), 'user');
  const results: BinaryNode[] = users.map((user) => {
    const phoneQuery = bytes(child(user, 'contact'))?.toString('utf8');
    const phone = user.attrs.jid
      ? directory.resolve(user.attrs.jid)?.phone
      : phoneQuery
        ? directory.findByPhoneNumber(phoneQuery.replace(/\D/g, ''))
        : undefined;
    const jid = user.attrs.jid ?? `${(phoneQuery ?? '').replace(/\D/g, '')}@s.whatsapp.net`;
    const content: BinaryNode[] = [];
    for (const protocol of protocols) {
      if (protocol === 'devices') {
        const list: BinaryNode[] = phone
          ? [
              { tag: 'device', attrs: { id: '0' } },
              ...phone.activeDevices().map((d) => ({ tag: 'device', attrs: { id: String(d.deviceId), 'key-index': String(d.keyIndex) } })),
            ]
          : [];
        content.push({ tag: 'devices', attrs: {}, content: [{ tag: 'device-list', attrs: {}, content: list }] });
      } else if (protocol === 'lid') {
        if (phone) content.push({ tag: 'lid', attrs: { val: phone.lid } });
      } else if (protocol === 'contact') {
        content.push({ tag: 'contact', attrs: { type: phone ? 'in' : 'out' } });
      }
    }
    return { tag: 'user', attrs: { jid: phone && !user.attrs.jid ? phone.jid : jid }, content };
  });
  return iqResult(iq, [{ tag: 'usync', attrs: { ...(usync?.attrs ?? {}) }, content: [{ tag: 'list', attrs: {}, content: results }] }]);
}

function answerAppStateSync(iq: BinaryNode): BinaryNode {
  const requested = childrenByTag(child(iq, 'sync'), 'collection');
  const collections = requested.map((c) => ({ tag: 'collection', attrs: { name: c.attrs.name, version: c.attrs.version ?? '0', has_more_patches: 'false' } }));
  return iqResult(iq, [{ tag: 'sync', attrs: {}, content: collections }]);
}

/** Where and with which token Baileys uploads media (the emulator's HTTPS media host). */
function mediaConnNode(media: MediaConnInfo): BinaryNode {
  return {
    tag: 'media_conn',
    attrs: { auth: media.auth, ttl: String(media.ttlSeconds), auth_ttl: String(media.ttlSeconds), max_buckets: '12' },
    content: [{ tag: 'host', attrs: { hostname: media.hostname, maxContentLengthBytes: String(media.maxContentLengthBytes) } }],
  };
}
