import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * Recorded runs on disk: `<runsDir>/<runId>/events.ndjson` (+ optional kpis.json), written by the scenario
 * runner (`npm run sim -- … --out <runsDir>/<id>`) or by the live recorder. A run is loaded into compact
 * per-vehicle arrays so seeking is a binary search.
 */
export interface RunInfo {
  id: string;
  name: string;
  kind: 'sim' | 'live';
  start: number;
  end: number;
  bytes: number;
}

export interface VehicleTrack {
  id: string;
  t: Float64Array;
  lat: Float64Array;
  lon: Float64Array;
  heading: Float32Array;
  speed: Float32Array;
  soc: Float32Array;
  onboard: Uint16Array;
  latencyMs: Float32Array;
  mode: string[];
  doors: string[];
}

export interface LoadedRun {
  info: RunInfo;
  tracks: Map<string, VehicleTrack>;
  /** every non-vehicle event, in time order */
  events: Record<string, unknown>[];
  kpis: unknown;
}

export const MAX_RUN_BYTES = 400 * 1024 * 1024;
const ID = /^(?!\.\.?$)[\w.-]{1,80}$/; // not "." or "..": those lead out of the runs directory

export class RunStore {
  private cache = new Map<string, LoadedRun>();
  constructor(readonly dir: string) {}

  async list(): Promise<RunInfo[]> {
    let names: string[] = [];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const out: RunInfo[] = [];
    for (const id of names.sort()) {
      if (!ID.test(id)) continue;
      const info = await this.info(id).catch(() => null);
      if (info) out.push(info);
    }
    return out;
  }

  /** First and last line give name and time span without reading the whole file. */
  async info(id: string): Promise<RunInfo | null> {
    if (!ID.test(id)) return null;
    const file = join(this.dir, id, 'events.ndjson');
    const st = await stat(file).catch(() => null);
    if (!st || !st.isFile()) return null;
    const fh = await import('node:fs/promises').then((m) => m.open(file, 'r'));
    try {
      const head = Buffer.alloc(Math.min(4096, st.size));
      await fh.read(head, 0, head.length, 0);
      const first = JSON.parse(head.toString('utf8').split('\n')[0]) as { t: number; scenario?: string; type: string };
      const tailLen = Math.min(64 * 1024, st.size);
      const tail = Buffer.alloc(tailLen);
      await fh.read(tail, 0, tailLen, st.size - tailLen);
      const lines = tail.toString('utf8').trimEnd().split('\n');
      const last = JSON.parse(lines[lines.length - 1]) as { t: number };
      return { id, name: first.scenario ?? id, kind: id.startsWith('live-') ? 'live' : 'sim', start: first.t, end: last.t, bytes: st.size };
    } catch {
      return null;
    } finally {
      await fh.close();
    }
  }

  async load(id: string): Promise<LoadedRun | null> {
    const hit = this.cache.get(id);
    if (hit && !id.startsWith('live-')) return hit;
    const info = await this.info(id);
    if (!info) return null;
    if (info.bytes > MAX_RUN_BYTES) throw new Error(`run ${id} is ${(info.bytes / 1e6).toFixed(0)} MB, larger than the replay limit`);
    const raw = new Map<string, { t: number[]; lat: number[]; lon: number[]; heading: number[]; speed: number[]; soc: number[]; onboard: number[]; latencyMs: number[]; mode: string[]; doors: string[] }>();
    const events: Record<string, unknown>[] = [];
    const rl = createInterface({ input: createReadStream(join(this.dir, id, 'events.ndjson'), 'utf8'), crlfDelay: Infinity });
    for await (const line of rl) {
      if (!line) continue;
      let e: Record<string, any>;
      try {
        e = JSON.parse(line);
      } catch {
        continue; // a torn last line of a live recording
      }
      if (e.type === 'vehicle') {
        let r = raw.get(e.vehicleId);
        if (!r) raw.set(e.vehicleId, (r = { t: [], lat: [], lon: [], heading: [], speed: [], soc: [], onboard: [], latencyMs: [], mode: [], doors: [] }));
        r.t.push(e.t);
        r.lat.push(e.lat);
        r.lon.push(e.lon);
        r.heading.push(e.heading ?? 0);
        r.speed.push(e.speed ?? 0);
        r.soc.push(e.soc ?? 0);
        r.onboard.push(e.onboard ?? 0);
        r.latencyMs.push(e.latencyMs ?? 0);
        r.mode.push(e.mode ?? 'remote');
        r.doors.push(e.doors ?? 'closed');
      } else events.push(e);
    }
    const tracks = new Map<string, VehicleTrack>();
    for (const [vid, r] of [...raw.entries()].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
      tracks.set(vid, {
        id: vid,
        t: Float64Array.from(r.t),
        lat: Float64Array.from(r.lat),
        lon: Float64Array.from(r.lon),
        heading: Float32Array.from(r.heading),
        speed: Float32Array.from(r.speed),
        soc: Float32Array.from(r.soc),
        onboard: Uint16Array.from(r.onboard),
        latencyMs: Float32Array.from(r.latencyMs),
        mode: r.mode,
        doors: r.doors,
      });
    }
    const kpis = await readFile(join(this.dir, id, 'kpis.json'), 'utf8').then(JSON.parse).catch(() => null);
    const run = { info, tracks, events, kpis };
    if (!id.startsWith('live-')) {
      if (this.cache.size >= 3) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(id, run);
    }
    return run;
  }
}

/** Index of the last sample at or before t (−1 if none). */
export function sampleAt(times: Float64Array, t: number): number {
  let lo = 0, hi = times.length - 1, ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] <= t) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}
