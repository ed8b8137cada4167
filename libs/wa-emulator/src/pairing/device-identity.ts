import { Curve, hmacSign, proto, WA_ADV_ACCOUNT_SIG_PREFIX } from '../baileys';

const WA_ADV_DEVICE_SIG_PREFIX = Buffer.from([6, 1]);

/**
 * The `ADVSignedDeviceIdentityHMAC` a primary device hands its new companion:
 * the device details signed by the account (primary identity) key, MACed with
 * the adv secret only the companion and the scanning phone know.
 */
export function buildSignedDeviceIdentity(input: {
  accountIdentity: { public: Uint8Array; private: Uint8Array };
  companionIdentityKey: Uint8Array;
  advSecret: Buffer;
  keyIndex: number;
}): Uint8Array {
  const details = proto.ADVDeviceIdentity.encode({
    rawId: Math.floor(Math.random() * 2 ** 31),
    timestamp: Math.floor(Date.now() / 1000),
    keyIndex: input.keyIndex,
  }).finish();
  const accountSignature = Curve.sign(
    Buffer.from(input.accountIdentity.private),
    Buffer.concat([WA_ADV_ACCOUNT_SIG_PREFIX, details, input.companionIdentityKey]),
  );
  const signed = proto.ADVSignedDeviceIdentity.encode({
    details,
    accountSignatureKey: input.accountIdentity.public,
    accountSignature,
  }).finish();
  return proto.ADVSignedDeviceIdentityHMAC.encode({ details: signed, hmac: hmacSign(signed, input.advSecret) }).finish();
}

/** Checks the companion's counter-signature in `<pair-device-sign>`. */
export function verifyDeviceSignature(encoded: Uint8Array, companionIdentityKey: Uint8Array, accountIdentityKey: Uint8Array): boolean {
  const account = proto.ADVSignedDeviceIdentity.decode(encoded);
  if (!account.details || !account.deviceSignature) return false;
  const message = Buffer.concat([WA_ADV_DEVICE_SIG_PREFIX, account.details, companionIdentityKey, accountIdentityKey]);
  return Curve.verify(companionIdentityKey, message, account.deviceSignature);
}
