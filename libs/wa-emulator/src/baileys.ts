/**
 * The one place the emulator imports Baileys from. The emulator speaks the
 * protocol with Baileys' own codec, protobufs, curve and libsignal wrapper so
 * that it cannot drift from what the client expects.
 */
export {
  proto,
  encodeBinaryNode,
  decodeBinaryNode,
  getBinaryNodeChild,
  getBinaryNodeChildren,
  getBinaryNodeChildBuffer,
  jidDecode,
  jidEncode,
  Curve,
  hkdf,
  hmacSign,
  sha256,
  aesEncryptGCM,
  aesDecryptGCM,
  aesEncryptCTR,
  aesDecryptCTR,
  derivePairingCodeKey,
  encodeWAMessage,
  unpadRandomMax16,
  encodeBigEndian,
  generateSignalPubKey,
  initAuthCreds,
  addTransactionCapability,
  NOISE_MODE,
  WA_ADV_ACCOUNT_SIG_PREFIX,
  DEFAULT_CONNECTION_CONFIG,
  S_WHATSAPP_NET,
  getMediaKeys,
} from '@whiskeysockets/baileys';
export type {
  BinaryNode,
  AuthenticationCreds,
  SignalDataTypeMap,
  SignalKeyStore,
  SignalRepositoryWithLIDStore,
  KeyPair,
} from '@whiskeysockets/baileys';
