import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * On-disk cache for the built graph and its contraction hierarchy (the equivalent of OSRM's extract/contract
 * files): all typed arrays in one binary file behind a JSON header. Keyed by the SHA-256 of the OSM file plus
 * BUILD_VERSION, so a changed map or a changed profile/builder never serves a stale graph.
 */
export const BUILD_VERSION = 3;

type Typed = Float64Array | Float32Array | Int32Array | Uint32Array | Uint8Array;
const CTORS = { Float64Array, Float32Array, Int32Array, Uint32Array, Uint8Array } as const;
type CtorName = keyof typeof CTORS;

export async function fileHash(path: string): Promise<string> {
  const buf = await readFile(path);
  return createHash('sha256').update(buf).digest('hex');
}

export function cachePath(cacheDir: string, osmHash: string): string {
  return join(cacheDir, `graph-${osmHash.slice(0, 16)}-v${BUILD_VERSION}.bin`);
}

/** Splits an object into its typed arrays and the JSON-able rest. */
export async function writeCache(path: string, obj: Record<string, unknown>): Promise<void> {
  const arrays: { key: string; type: CtorName; offset: number; length: number }[] = [];
  const rest: Record<string, unknown> = {};
  let offset = 0;
  const parts: Typed[] = [];
  for (const [key, value] of Object.entries(obj)) {
    if (ArrayBuffer.isView(value)) {
      const typed = value as Typed;
      offset = Math.ceil(offset / 8) * 8;
      arrays.push({ key, type: typed.constructor.name as CtorName, offset, length: typed.length });
      parts.push(typed);
      offset += typed.byteLength;
    } else rest[key] = value;
  }
  const header = Buffer.from(JSON.stringify({ version: BUILD_VERSION, arrays, rest }));
  const headerLen = Math.ceil((header.length + 4) / 8) * 8;
  const out = Buffer.alloc(headerLen + offset);
  out.writeUInt32LE(header.length, 0);
  header.copy(out, 4);
  for (let i = 0; i < arrays.length; i++) {
    const p = parts[i];
    Buffer.from(p.buffer, p.byteOffset, p.byteLength).copy(out, headerLen + arrays[i].offset);
  }
  await mkdir(join(path, '..'), { recursive: true });
  // write then rename, so a crash mid-write never leaves a truncated cache that a later start would trust
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, out);
  await rename(tmp, path);
}

export async function readCache<T>(path: string): Promise<T | null> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch {
    return null;
  }
  try {
    const len = buf.readUInt32LE(0);
    const header = JSON.parse(buf.subarray(4, 4 + len).toString('utf8'));
    if (header.version !== BUILD_VERSION) return null;
    const headerLen = Math.ceil((len + 4) / 8) * 8;
    // one aligned copy of the payload; arrays are views into it (no per-array copies)
    const payload = new ArrayBuffer(buf.length - headerLen);
    new Uint8Array(payload).set(buf.subarray(headerLen));
    const obj: Record<string, unknown> = { ...header.rest };
    for (const a of header.arrays as { key: string; type: CtorName; offset: number; length: number }[]) {
      obj[a.key] = new CTORS[a.type](payload, a.offset, a.length);
    }
    return obj as T;
  } catch {
    return null; // a corrupt cache is rebuilt, not trusted
  }
}
