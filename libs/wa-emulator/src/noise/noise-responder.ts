import { aesDecryptGCM, aesEncryptGCM, Curve, hkdf, NOISE_MODE, proto, sha256, type KeyPair } from '../baileys';

const IV_LENGTH = 12;
const EMPTY = Buffer.alloc(0);

function ivFor(counter: number): Buffer {
  const iv = Buffer.alloc(IV_LENGTH);
  iv.writeUInt32BE(counter, 8);
  return iv;
}

export interface ClientHello {
  ephemeral: Uint8Array;
}

/**
 * The server (responder) half of WhatsApp's Noise XX handshake. It mirrors
 * Baileys' `Utils/noise-handler.js` step for step, so every hash and key mix
 * happens in the same order as on the client.
 */
export class NoiseResponder {
  private hash: Buffer;
  private salt: Buffer;
  private cipherKey: Buffer;
  private counter = 0;
  private readonly ephemeral: KeyPair = Curve.generateKeyPair();

  constructor(introHeader: Uint8Array) {
    const mode = Buffer.from(NOISE_MODE);
    this.hash = mode.byteLength === 32 ? mode : sha256(mode);
    this.salt = this.hash;
    this.cipherKey = this.hash;
    this.authenticate(introHeader);
  }

  /** Answers the client hello with our ephemeral, our static key and the certificate chain. */
  respondToHello(hello: ClientHello, serverStatic: KeyPair, certificateChain: Uint8Array): Uint8Array {
    const clientEphemeral = Buffer.from(hello.ephemeral);
    this.authenticate(clientEphemeral);
    this.authenticate(this.ephemeral.public);
    this.mixIntoKey(Curve.sharedKey(this.ephemeral.private, clientEphemeral));
    const encryptedStatic = this.encrypt(serverStatic.public);
    this.mixIntoKey(Curve.sharedKey(serverStatic.private, clientEphemeral));
    const encryptedPayload = this.encrypt(certificateChain);
    return proto.HandshakeMessage.encode({
      serverHello: { ephemeral: this.ephemeral.public, static: encryptedStatic, payload: encryptedPayload },
    }).finish();
  }

  /** Reads the client finish: its static (noise) key and the ClientPayload. */
  readClientFinish(finish: { static?: Uint8Array | null; payload?: Uint8Array | null }): { clientStatic: Buffer; payload: proto.ClientPayload } {
    if (!finish.static || !finish.payload) throw new Error('client finish without static key or payload');
    const clientStatic = this.decrypt(finish.static);
    this.mixIntoKey(Curve.sharedKey(this.ephemeral.private, clientStatic));
    const payload = proto.ClientPayload.decode(this.decrypt(finish.payload));
    return { clientStatic, payload };
  }

  /** Derives the transport keys; the client writes with the first half, we with the second. */
  transport(): NoiseTransport {
    const keys = Buffer.from(hkdf(EMPTY, 64, { salt: this.salt, info: '' }));
    return new NoiseTransport(keys.subarray(32, 64), keys.subarray(0, 32));
  }

  private authenticate(data: Uint8Array): void {
    this.hash = sha256(Buffer.concat([this.hash, data]));
  }

  private encrypt(plaintext: Uint8Array): Buffer {
    const result = aesEncryptGCM(plaintext, this.cipherKey, ivFor(this.counter++), this.hash);
    this.authenticate(result);
    return result;
  }

  private decrypt(ciphertext: Uint8Array): Buffer {
    const result = aesDecryptGCM(ciphertext, this.cipherKey, ivFor(this.counter++), this.hash);
    this.authenticate(ciphertext);
    return result;
  }

  private mixIntoKey(data: Uint8Array): void {
    const key = Buffer.from(hkdf(Buffer.from(data), 64, { salt: this.salt, info: '' }));
    this.salt = key.subarray(0, 32);
    this.cipherKey = key.subarray(32);
    this.counter = 0;
  }
}

/** AES-GCM with a per-direction counter as IV and no associated data. */
export class NoiseTransport {
  private writeCounter = 0;
  private readCounter = 0;

  constructor(
    private readonly encryptKey: Buffer,
    private readonly decryptKey: Buffer,
  ) {}

  encrypt(plaintext: Uint8Array): Buffer {
    return aesEncryptGCM(plaintext, this.encryptKey, ivFor(this.writeCounter++), EMPTY);
  }

  decrypt(ciphertext: Uint8Array): Buffer {
    return aesDecryptGCM(ciphertext, this.decryptKey, ivFor(this.readCounter++), EMPTY);
  }
}
