/**
 * This codec against the published vectors (docs/codec-vectors.json): the converter makes each
 * input, the codec seals it to exactly the vector's bytes, and a keyring of both keys opens it.
 *
 *   node dist/vectors.js [path to codec-vectors.json]
 *
 * One line per vector, then `vectors: N ok`; a mismatch exits 1 and names it.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Payload } from '@temporalio/common';
import { EncryptionCodec, parseKeyring, serialize } from './codec';
import { payloadConverter } from './converter';

interface Shown {
  metadata: Record<string, string>;
  data_base64: string;
}

interface Vector {
  name: string;
  key_id: string;
  key_base64: string;
  nonce_base64: string | null;
  value: unknown;
  input: Shown;
  serialized_base64: string | null;
  sealed: Shown;
}

function payload(shown: Shown): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [key, value] of Object.entries(shown.metadata)) metadata[key] = Buffer.from(value, 'utf8');
  return { metadata, data: Buffer.from(shown.data_base64, 'base64') };
}

/** A payload as the file shows it, to compare byte for byte. */
function shown(p: Payload): Shown {
  const metadata: Record<string, string> = {};
  // Sorted: a protobuf map has no order of its own.
  for (const key of Object.keys(p.metadata ?? {}).sort()) metadata[key] = Buffer.from(p.metadata![key]).toString('utf8');
  return { metadata, data_base64: Buffer.from(p.data ?? new Uint8Array()).toString('base64') };
}

function same(what: string, name: string, actual: unknown, expected: unknown): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`vector ${name}: ${what} differs\n  made:     ${a}\n  expected: ${e}`);
}

async function main(): Promise<void> {
  const file = process.argv[2] ?? resolve(__dirname, '../../../docs/codec-vectors.json');
  const vectors = JSON.parse(readFileSync(file, 'utf8')) as { keyring: string; vectors: Vector[] };
  const both = new EncryptionCodec(parseKeyring(vectors.keyring));
  for (const vector of vectors.vectors) {
    const input = payload(vector.input);
    // JSON null is Python's None, which is `binary/null`: here that is undefined.
    const value = vector.value === null ? undefined : vector.value;
    same('the converted input', vector.name, shown(payloadConverter.toPayload(value)), shown(input));
    const own = new EncryptionCodec(parseKeyring(`${vector.key_id}:${vector.key_base64}`));
    let sealed: Payload;
    if (vector.nonce_base64 === null) {
      [sealed] = await own.encode([input]);
    } else {
      same('the serialized input', vector.name, Buffer.from(serialize(input)).toString('base64'), vector.serialized_base64);
      sealed = own.seal(input, Buffer.from(vector.nonce_base64, 'base64'));
    }
    same('the sealed payload', vector.name, shown(sealed), shown(payload(vector.sealed)));
    const [opened] = await both.decode([payload(vector.sealed)]);
    same('the opened payload', vector.name, shown(opened), shown(input));
    console.log(`vector ${vector.name}: ok`);
  }
  console.log(`vectors: ${vectors.vectors.length} ok`);
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exitCode = 1;
});
