/**
 * The selfie's way in: uploaded to the gateway (POST {GATEWAY_URL}/selfies, the raw image,
 * the gateway's bearer token), which answers the `selfie_ref` that alone enters Temporal.
 */
import { crc32, deflateSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';

// A gateway at its limit of uploads in flight answers 503 with Retry-After.
const UPLOAD_ATTEMPTS = 10;
const MAX_UPLOAD_WAIT_SECONDS = 5;

export async function storeSelfie(gatewayUrl: string, token: string | undefined, selfie: Uint8Array): Promise<string> {
  const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const url = `${gatewayUrl.replace(/\/+$/, '')}/selfies`;
  let response: Response | undefined;
  for (let attempt = 1; attempt <= UPLOAD_ATTEMPTS; attempt++) {
    try {
      response = await fetch(url, { method: 'POST', headers, body: selfie, signal: AbortSignal.timeout(30_000) });
    } catch (error) {
      throw new Error(`cannot reach the gateway at ${gatewayUrl} (${(error as Error).message})`);
    }
    if (response.status !== 503 || attempt === UPLOAD_ATTEMPTS) break;
    const retryAfter = Number(response.headers.get('retry-after'));
    const seconds = Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, MAX_UPLOAD_WAIT_SECONDS) : 1;
    await sleep((seconds + Math.random() * 0.5) * 1000);
  }
  if (response!.status === 401) {
    throw new Error(`the gateway at ${gatewayUrl} refused the upload: GATEWAY_API_TOKEN is missing or not the gateway's`);
  }
  if (response!.status !== 201) {
    throw new Error(`the gateway refused the selfie: ${(await response!.text()).trim()}`);
  }
  return ((await response!.json()) as { selfie_ref: string }).selfie_ref;
}

/** A grey gradient, 640x480 (Unico's smallest accepted selfie), as an 8-bit greyscale PNG. */
export function samplePng(width = 640, height = 480): Buffer {
  const chunk = (kind: string, body: Buffer): Buffer => {
    const typed = Buffer.concat([Buffer.from(kind, 'ascii'), body]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(body.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typed));
    return Buffer.concat([length, typed, crc]);
  };
  const rows = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) rows[y * (width + 1) + 1 + x] = (x + y) % 256; // filter byte 0 first
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8); // 8 bits, greyscale, deflate, no filter method, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
