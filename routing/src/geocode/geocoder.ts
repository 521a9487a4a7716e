import KDBush from 'kdbush';
import type { GeocodeData } from './extract.ts';
import { allowedEdits, editDistance, normalizeTokens, parseHouseNumber, type HouseNumber } from './normalize.ts';

export type GeocodeKind = 'address' | 'street' | 'poi';

export interface GeocodeResult {
  /** what to show: "Trippstadter Straße 101", "Davenportplatz", "Mensa" */
  label: string;
  kind: GeocodeKind;
  lat: number;
  lon: number;
  street?: string;
  housenumber?: string;
  /** POI category from the map ("pharmacy", "bus_stop", "shop:supermarket", "building", …) */
  category?: string;
  /** a second line for POIs: their street */
  context?: string;
  /** the typed house number does not exist on that street: this is the nearest one */
  approximate?: boolean;
  /** match quality 0…1 */
  score: number;
  /** reverse geocoding: metres from the asked point */
  distance?: number;
}

export interface SearchOptions {
  limit?: number;
  /** ties (equal score) are ranked by distance to this point, e.g. the service area's centre */
  focus?: { lat: number; lon: number };
}

interface Norm {
  tokens: string[];
  joined: string;
}
const norm = (s: string): Norm => {
  const tokens = normalizeTokens(s);
  return { tokens, joined: tokens.join('') };
};

const KIND_ORDER: Record<GeocodeKind, number> = { address: 0, street: 1, poi: 2 };
const MIN_SCORE = 0.6;
/** words that name the town, not the place: dropped from a query ("Trippstadter Str. 100, 67663 Kaiserslautern") */
const TOWN_WORDS = new Set(['kaiserslautern', 'kl', 'deutschland', 'germany']);

/** Score of a typed word (or word run) against a name's word: exact, prefix (still typing), or a typo away. */
function wordScore(q: string, c: string): number {
  if (q === c) return 1;
  const digits = /^\d/.test(q);
  if (c.startsWith(q) && (q.length >= 2 || digits)) return 0.86 + 0.1 * (q.length / c.length);
  if (digits) return 0; // numbers are not misspelt: 42 is not 43
  const k = allowedEdits(q.length);
  // like most search engines, typos are looked for after a correct first letter (fast, and rarely wrong)
  if (k === 0 || q.charCodeAt(0) !== c.charCodeAt(0)) return 0;
  const d = editDistance(q, c, k);
  if (d <= k) return 0.85 - 0.07 * d;
  // a typo while still typing: compare with the start of the name
  if (q.length >= 5 && c.length > q.length + 1) {
    let best = k + 1;
    for (const len of [q.length - 1, q.length, q.length + 1]) best = Math.min(best, editDistance(q, c.slice(0, len), k));
    if (best <= k) return 0.76 - 0.07 * best;
  }
  return 0;
}

type WordScorer = (q: string, c: string) => number;

/** wordScore with a per-search memo: names share most words ("strasse", "gebaude"), each pair is scored once. */
function memoScorer(): WordScorer {
  const memo = new Map<string, number>();
  return (q, c) => {
    const key = `${q}\u0000${c}`;
    let v = memo.get(key);
    if (v === undefined) memo.set(key, (v = wordScore(q, c)));
    return v;
  };
}

/** Every typed word must match a different word of the name; full coverage of the name scores higher. */
function tokenScore(q: string[], c: string[], wordScore: WordScorer): number {
  if (!q.length || !c.length) return 0;
  const used = new Array<boolean>(c.length).fill(false);
  let sum = 0;
  for (const w of q) {
    let best = 0, bi = -1;
    for (let i = 0; i < c.length; i++) {
      if (used[i]) continue;
      const s = wordScore(w, c[i]);
      if (s > best) {
        best = s;
        bi = i;
      }
    }
    if (bi < 0) return 0;
    used[bi] = true;
    sum += best;
  }
  const covered = used.filter(Boolean).length / c.length;
  return (sum / q.length) * (0.82 + 0.18 * covered);
}

/** Name match: the better of the whole-string comparison (compounds: "Trippstadterstr" ≙ "Trippstadter Straße") and word by word. */
function nameScore(q: Norm, c: Norm, score: WordScorer): number {
  if (!q.joined) return 0;
  const whole = q.tokens.length === 1 && c.tokens.length === 1 ? 0 : wordScore(q.joined, c.joined);
  return Math.max(whole, tokenScore(q.tokens, c.tokens, score));
}

function houseNumberScore(q: HouseNumber, c: HouseNumber): { score: number; approximate: boolean } | null {
  const inRange = q.n >= c.n && q.n <= c.hi;
  if (inRange && (q.suffix === c.suffix || (c.hi > c.n && !q.suffix))) return { score: 1, approximate: false };
  if (inRange) return { score: 0.93, approximate: true }; // 28 asked, 28a found (or the other way round)
  return null;
}

/**
 * Forward and reverse geocoding over the OSM extract's streets, addresses and named places. Forgiving: umlauts
 * in any spelling, "str."/"Straße", missing hyphens and spaces, one or two typos (by word length), prefixes while
 * typing; a house number that does not exist gives the nearest one on that street, marked approximate.
 */
export class Geocoder {
  private readonly streetNorm: Norm[];
  private readonly poiNorm: Norm[];
  private readonly byStreet = new Map<number, { i: number; hn: HouseNumber }[]>();
  private readonly addrIndex: KDBush;
  private readonly roadIndex: KDBush;
  private readonly lat0: number;
  private readonly poiStreet: (number | undefined)[];

  constructor(readonly data: GeocodeData) {
    this.streetNorm = data.streets.map((s) => norm(s.name));
    this.poiNorm = data.pois.map((p) => norm(p.name));
    data.addresses.forEach((a, i) => {
      const hn = parseHouseNumber(a.hn);
      if (!hn) return;
      let list = this.byStreet.get(a.s);
      if (!list) this.byStreet.set(a.s, (list = []));
      list.push({ i, hn });
    });
    const lats = data.streets.map((s) => s.lat).filter((x) => x !== 0);
    this.lat0 = lats.length ? lats.reduce((a, b) => a + b, 0) / lats.length : 0;
    this.addrIndex = new KDBush(Math.max(1, data.addresses.length));
    for (const a of data.addresses) this.addrIndex.add(...this.xy(a.lat, a.lon));
    if (!data.addresses.length) this.addrIndex.add(1e12, 1e12);
    this.addrIndex.finish();
    const nRoad = data.roadPoints.length / 3;
    this.roadIndex = new KDBush(Math.max(1, nRoad));
    for (let k = 0; k < nRoad; k++) this.roadIndex.add(...this.xy(data.roadPoints[3 * k + 1], data.roadPoints[3 * k]));
    if (!nRoad) this.roadIndex.add(1e12, 1e12);
    this.roadIndex.finish();
    this.poiStreet = data.pois.map((p) => p.s ?? this.nearestRoad(p.lat, p.lon, 150)?.s);
  }

  /** metres on a local plane (good to well under 1 % within a town) */
  private xy(lat: number, lon: number): [number, number] {
    return [lon * 111_320 * Math.cos((this.lat0 * Math.PI) / 180), lat * 110_574];
  }

  private nearestRoad(lat: number, lon: number, radius: number): { s: number; d: number } | null {
    if (!this.data.roadPoints.length) return null;
    const [x, y] = this.xy(lat, lon);
    let best: { s: number; d: number } | null = null;
    for (const k of this.roadIndex.within(x, y, radius)) {
      const [px, py] = this.xy(this.data.roadPoints[3 * k + 1], this.data.roadPoints[3 * k]);
      const d = Math.hypot(px - x, py - y);
      if (!best || d < best.d) best = { s: this.data.roadPoints[3 * k + 2], d };
    }
    return best;
  }

  search(query: string, opts: SearchOptions = {}): GeocodeResult[] {
    const limit = Math.max(1, Math.min(50, opts.limit ?? 8));
    let tokens = normalizeTokens(query).filter((t) => !/^\d{5}$/.test(t)); // postcodes say nothing within one town
    const withoutTown = tokens.filter((t) => !TOWN_WORDS.has(t));
    if (withoutTown.length) tokens = withoutTown;
    if (!tokens.length) return [];

    const out: GeocodeResult[] = [];
    const score = memoScorer();
    // (a) the whole query as a name: streets and places
    const q: Norm = { tokens, joined: tokens.join('') };
    for (let s = 0; s < this.streetNorm.length; s++) {
      const sc = nameScore(q, this.streetNorm[s], score);
      if (sc >= MIN_SCORE) out.push(this.streetResult(s, sc));
    }
    for (let p = 0; p < this.poiNorm.length; p++) {
      const sc = nameScore(q, this.poiNorm[p], score);
      if (sc >= MIN_SCORE) out.push(this.poiResult(p, sc));
    }
    // (b) street + house number ("trippstadter str 100", "100 Trippstadter Straße", "Davenportplatz 4 a")
    const split = splitHouseNumber(tokens);
    if (split) {
      const sq: Norm = { tokens: split.street, joined: split.street.join('') };
      const candidates: { s: number; sc: number }[] = [];
      for (let s = 0; s < this.streetNorm.length; s++) {
        const sc = nameScore(sq, this.streetNorm[s], score);
        if (sc >= MIN_SCORE) candidates.push({ s, sc });
      }
      candidates.sort((a, b) => b.sc - a.sc);
      for (const { s, sc } of candidates.slice(0, 5)) {
        const addr = this.houseNumberOn(s, split.hn);
        if (addr) out.push({ ...addr, score: round3(sc * addr.score) });
        out.push(this.streetResult(s, sc * 0.8)); // the street itself, below its addresses
      }
    }
    return rank(dedupe(out), opts.focus, limit);
  }

  /** The nearest address (within 40 m), else the nearest named road (within 200 m), else null. */
  reverse(lat: number, lon: number): GeocodeResult | null {
    const [x, y] = this.xy(lat, lon);
    let best: { i: number; d: number } | null = null;
    for (const i of this.addrIndex.within(x, y, 40)) {
      const a = this.data.addresses[i];
      if (!a) continue;
      const [ax, ay] = this.xy(a.lat, a.lon);
      const d = Math.hypot(ax - x, ay - y);
      if (!best || d < best.d) best = { i, d };
    }
    if (best) {
      const a = this.data.addresses[best.i];
      const street = this.data.streets[a.s].name;
      return { label: `${street} ${a.hn}`, kind: 'address', lat: a.lat, lon: a.lon, street, housenumber: a.hn, score: 1, distance: Math.round(best.d) };
    }
    const road = this.nearestRoad(lat, lon, 200);
    if (road) {
      const st = this.data.streets[road.s];
      return { label: st.name, kind: 'street', lat, lon, street: st.name, score: 1, distance: Math.round(road.d) };
    }
    return null;
  }

  private streetResult(s: number, score: number): GeocodeResult {
    const st = this.data.streets[s];
    return { label: st.name, kind: 'street', lat: st.lat, lon: st.lon, street: st.name, score: round3(score) };
  }

  private poiResult(p: number, score: number): GeocodeResult {
    const poi = this.data.pois[p];
    const s = this.poiStreet[p];
    const street = s !== undefined ? this.data.streets[s].name : undefined;
    const context = street ? (poi.hn ? `${street} ${poi.hn}` : street) : undefined;
    return {
      label: poi.name,
      kind: 'poi',
      lat: poi.lat,
      lon: poi.lon,
      category: poi.cat,
      ...(street ? { street } : {}),
      ...(poi.hn ? { housenumber: poi.hn } : {}),
      ...(context && context !== poi.name ? { context } : {}),
      score: round3(score),
    };
  }

  private houseNumberOn(s: number, q: HouseNumber): GeocodeResult | null {
    const list = this.byStreet.get(s);
    if (!list?.length) return null;
    let best: { i: number; score: number; approximate: boolean; gap: number } | null = null;
    for (const { i, hn } of list) {
      const m = houseNumberScore(q, hn);
      if (m && (!best || m.score > best.score)) best = { i, ...m, gap: 0 };
    }
    if (!best) {
      // no such number: the nearest on the street, same side (parity) preferred
      for (const { i, hn } of list) {
        const gap = Math.min(Math.abs(hn.n - q.n), Math.abs(hn.hi - q.n)) + ((hn.n - q.n) % 2 !== 0 ? 0.5 : 0);
        if (!best || gap < best.gap) best = { i, score: gap <= 4 ? 0.85 : 0.75, approximate: true, gap };
      }
    }
    const a = this.data.addresses[best!.i];
    const street = this.data.streets[s].name;
    return {
      label: `${street} ${a.hn}`,
      kind: 'address',
      lat: a.lat,
      lon: a.lon,
      street,
      housenumber: a.hn,
      ...(best!.approximate ? { approximate: true } : {}),
      score: best!.score,
    };
  }
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Finds the house number: the last number-like token (with a following one-letter suffix), else a leading one. */
function splitHouseNumber(tokens: string[]): { street: string[]; hn: HouseNumber } | null {
  for (let i = tokens.length - 1; i >= 0; i--) {
    if (!/^\d{1,4}[a-z]?$/.test(tokens[i])) continue;
    let raw = tokens[i], end = i + 1;
    if (/^\d+$/.test(raw) && tokens[i + 1] && /^[a-z]$/.test(tokens[i + 1])) {
      raw += tokens[i + 1];
      end = i + 2;
    }
    const street = [...tokens.slice(0, i), ...tokens.slice(end)];
    const hn = parseHouseNumber(raw);
    if (hn && street.length) return { street, hn };
  }
  return null;
}

function dedupe(rs: GeocodeResult[]): GeocodeResult[] {
  const by = new Map<string, GeocodeResult>();
  for (const r of rs) {
    const key = `${r.kind}|${r.label.toLowerCase()}|${r.context ?? ''}`;
    const prev = by.get(key);
    if (!prev || r.score > prev.score) by.set(key, r);
  }
  return [...by.values()];
}

function rank(rs: GeocodeResult[], focus: SearchOptions['focus'], limit: number): GeocodeResult[] {
  const dist = (r: GeocodeResult) => (focus ? Math.hypot(r.lat - focus.lat, (r.lon - focus.lon) * 0.65) : 0);
  return rs
    .sort((a, b) => Math.round(b.score * 100) - Math.round(a.score * 100) || KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || dist(a) - dist(b))
    .slice(0, limit);
}
