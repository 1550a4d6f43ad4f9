/**
 * The onboarding payload codec, natively: AES-256-GCM over the whole serialized Payload, as
 * docs/codec.md describes it byte by byte (and docs/codec-vectors.json checks).
 *
 *   metadata: {"encoding": "binary/encrypted", "encryption-key-id": "<key id>"}
 *   data:     nonce (12 bytes) || ciphertext || GCM tag (16 bytes), the key id as AAD
 *
 * The keyring's current key seals; any key of the keyring opens, by the payload's key id.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const ENCODING = 'binary/encrypted';
// None/undefined carries no data and passes through both ways: the server reads a memo
// key's `binary/null` as "remove".
export const NULL_ENCODING = 'binary/null';
export const KEY_ID_METADATA = 'encryption-key-id';
export const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const ProtoPayload = temporal.api.common.v1.Payload;

export interface Keyring {
  currentId: string;
  keys: Map<string, Buffer>;
}

/**
 * `id:base64key` entries, separated by commas or new lines, `#` starting a comment; the
 * current key is `currentId`, or else the first entry (ONBOARDING_ENCRYPTION_KEY_ID).
 */
export function parseKeyring(text: string, currentId?: string): Keyring {
  const keys = new Map<string, Buffer>();
  for (const line of text.split(/\r\n|\r|\n/)) {
    for (const raw of line.split('#', 1)[0].split(',')) {
      const entry = raw.trim();
      if (!entry) continue;
      const colon = entry.indexOf(':');
      const keyId = colon < 0 ? '' : entry.slice(0, colon).trim();
      if (!keyId) throw new Error('each key is written id:base64key');
      if (!KEY_ID.test(keyId)) throw new Error(`key id ${JSON.stringify(keyId)}: use 1-64 of A-Z a-z 0-9 . _ -`);
      if (keys.has(keyId)) throw new Error(`key id ${JSON.stringify(keyId)} is listed twice`);
      // Either base64 alphabet, as the Python keyring reads it.
      const encoded = entry.slice(colon + 1).trim().replace(/-/g, '+').replace(/_/g, '/');
      if (!BASE64.test(encoded) || encoded.length % 4 !== 0) {
        throw new Error(`key ${JSON.stringify(keyId)} is not valid base64`);
      }
      const key = Buffer.from(encoded, 'base64');
      if (key.length !== KEY_BYTES) {
        throw new Error(`key ${JSON.stringify(keyId)} has ${key.length} bytes; AES-256 needs 32`);
      }
      keys.set(keyId, key);
    }
  }
  if (keys.size === 0) throw new Error('no encryption key is configured');
  const current = currentId || keys.keys().next().value!;
  if (!keys.has(current)) throw new Error(`the current key id ${JSON.stringify(current)} is not among the keys`);
  return { currentId: current, keys };
}

/** The Payload protobuf's bytes: what the codec seals. */
export function serialize(payload: Payload): Uint8Array {
  // proto3 leaves empty bytes out, as Python's protobuf does; protobufjs would write them.
  const data = payload.data && payload.data.length > 0 ? payload.data : undefined;
  return ProtoPayload.encode({ metadata: payload.metadata ?? {}, data }).finish();
}

function text(value: Uint8Array | null | undefined): string | undefined {
  return value == null ? undefined : Buffer.from(value).toString('utf8');
}

export class EncryptionCodec implements PayloadCodec {
  constructor(readonly keyring: Keyring) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.seal(payload, randomBytes(NONCE_BYTES)));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.open(payload));
  }

  /** `encode` under a given nonce, for the test vectors: never reuse a nonce under a key. */
  seal(payload: Payload, nonce: Uint8Array): Payload {
    if (text(payload.metadata?.encoding) === NULL_ENCODING) return payload;
    if (nonce.length !== NONCE_BYTES) throw new Error(`a nonce is ${NONCE_BYTES} bytes, not ${nonce.length}`);
    const keyId = this.keyring.currentId;
    const cipher = createCipheriv('aes-256-gcm', this.keyring.keys.get(keyId)!, nonce, {
      authTagLength: TAG_BYTES,
    });
    cipher.setAAD(Buffer.from(keyId, 'utf8'));
    const sealed = Buffer.concat([cipher.update(serialize(payload)), cipher.final()]);
    return {
      metadata: { encoding: Buffer.from(ENCODING), [KEY_ID_METADATA]: Buffer.from(keyId, 'utf8') },
      data: Buffer.concat([nonce, sealed, cipher.getAuthTag()]),
    };
  }

  open(payload: Payload): Payload {
    if (text(payload.metadata?.encoding) !== ENCODING) return payload; // never sealed
    const keyId = text(payload.metadata?.[KEY_ID_METADATA]) ?? '';
    const key = this.keyring.keys.get(keyId);
    if (key === undefined) {
      throw new Error(
        `a payload is encrypted with key id ${JSON.stringify(keyId)}, which is not among the ` +
          `configured keys (${[...this.keyring.keys.keys()].join(', ')})`,
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < NONCE_BYTES + TAG_BYTES) throw new Error(`a payload with key id ${keyId} is too short`);
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, NONCE_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(keyId, 'utf8'));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new Error(`a payload with key id ${keyId} does not decrypt: other key bytes, or altered data`);
    }
    return ProtoPayload.decode(plain);
  }
}
