/**
 * Text normalisation for the geocoder: one canonical form for what people type and what the map says, so that
 * "Trippstadter Str. 100", "trippstadter strasse 100" and "Trippstadter Straße 100" compare equal, and umlauts
 * match whether typed as ä, ae or a.
 */

/** Abbreviations and spellings that name the same word (after lower-casing and umlaut folding). */
const WORD_SYNONYMS: Record<string, string> = {
  str: 'strasse',
  strase: 'strasse', // a common typo, cheaper than a fuzzy edit
  pl: 'platz',
  hbf: 'hauptbahnhof',
  bhf: 'bahnhof',
  geb: 'gebaude',
};

/**
 * Lower case; ß → ss; accents and umlauts dropped (ä → a) and the umlaut spellings folded the same way
 * (ae → a, oe → o, ue → u), so both sides of a comparison land on one form; "str." endings → "strasse";
 * punctuation → spaces. Returns the tokens.
 */
export function normalizeTokens(s: string): string[] {
  let t = s.toLowerCase().replace(/ß/g, 'ss');
  t = t.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
  t = t.replace(/ae/g, 'a').replace(/oe/g, 'o').replace(/ue/g, 'u');
  // "Trippstadterstr." and "Gottlieb-Daimler-Str" → …strasse (a "str" that ends a word)
  t = t.replace(/str\.?(?=[\s,;/-]|$)/g, 'strasse');
  t = t.replace(/(\w)pl\.(?=[\s,;/-]|$)/g, '$1platz'); // "Davenportpl." (with the dot only: "pl" alone is a synonym below)
  t = t.replace(/[^a-z0-9]+/g, ' ').trim();
  if (!t) return [];
  return t.split(' ').map((w) => WORD_SYNONYMS[w] ?? w);
}

export function normalize(s: string): string {
  return normalizeTokens(s).join(' ');
}

/**
 * Optimal-string-alignment distance (Damerau–Levenshtein with adjacent transpositions), giving up early:
 * returns `max + 1` as soon as the distance must exceed `max`.
 */
export function editDistance(a: string, b: string, max: number): number {
  if (a === b) return 0;
  const la = a.length, lb = b.length;
  if (Math.abs(la - lb) > max) return max + 1;
  if (la === 0) return lb;
  if (lb === 0) return la;
  if (rows[0].length <= lb) for (let r = 0; r < 3; r++) rows[r] = new Int32Array(lb * 2 + 2);
  let prev2 = rows[0], prev = rows[1], cur = rows[2];
  for (let j = 0; j <= lb; j++) prev[j] = j;
  for (let i = 1; i <= la; i++) {
    cur[0] = i;
    let rowMin = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= lb; j++) {
      const cb = b.charCodeAt(j - 1);
      let v = prev[j - 1] + (ca === cb ? 0 : 1);
      if (prev[j] + 1 < v) v = prev[j] + 1;
      if (cur[j - 1] + 1 < v) v = cur[j - 1] + 1;
      if (i > 1 && j > 1 && ca === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === cb && prev2[j - 2] + 1 < v) v = prev2[j - 2] + 1;
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    const t = prev2;
    prev2 = prev;
    prev = cur;
    cur = t;
  }
  return prev[lb];
}
/** reused DP rows (the geocoder compares thousands of short strings per query) */
const rows: Int32Array[] = [new Int32Array(64), new Int32Array(64), new Int32Array(64)];

/** Edits tolerated for a word of this length: none for short words, 1 up to 8 letters, 2 beyond. */
export function allowedEdits(len: number): number {
  return len <= 4 ? 0 : len <= 8 ? 1 : 2;
}

/** A house number as typed or tagged: "28a", "13-15", "1A-C", "78 - 82". */
export interface HouseNumber {
  n: number;
  /** upper end of a range ("13-15" → 15), else n */
  hi: number;
  suffix: string;
}

export function parseHouseNumber(s: string): HouseNumber | null {
  const m = /^\s*(\d{1,4})\s*([a-z]?)(?:\s*[-–/]\s*(\d{1,4})?\s*([a-z]?))?\s*$/i.exec(s);
  if (!m) return null;
  const n = Number(m[1]);
  const hi = m[3] ? Number(m[3]) : n;
  return { n, hi: hi >= n ? hi : n, suffix: (m[2] ?? '').toLowerCase() };
}
