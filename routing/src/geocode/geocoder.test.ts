import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { testEngine } from '../testing/engine.ts';
import { extractGeocodeData } from './extract.ts';
import { Geocoder, type GeocodeResult } from './geocoder.ts';
import { geocodeCachePath, geocoderFor, loadGeocoder } from './load.ts';
import { editDistance, normalize, parseHouseNumber } from './normalize.ts';
import type { OsmData } from '../osm/read.ts';

/** The service area's centre (Uni-Wohnstadt / TUK / PFAFF), as the server passes it. */
const FOCUS = { lat: 49.43, lon: 7.753 };
const metres = (a: { lat: number; lon: number }, b: { lat: number; lon: number }) => Math.hypot((a.lat - b.lat) * 111_000, (a.lon - b.lon) * 72_400);

describe('normalisation', () => {
  it('folds umlauts, ß, "str." and punctuation to one form', () => {
    expect(normalize('Trippstadter Straße')).toBe('trippstadter strasse');
    expect(normalize('trippstadter str.')).toBe('trippstadter strasse');
    expect(normalize('Trippstadter Str')).toBe('trippstadter strasse');
    expect(normalize('Gottlieb-Daimler-Str.')).toBe('gottlieb daimler strasse');
    expect(normalize('Erwin-Schrödinger-Straße')).toBe(normalize('erwin schroedinger strasse'));
    expect(normalize('Erwin-Schrödinger-Straße')).toBe(normalize('Erwin Schrodinger Strasse'));
    expect(normalize('Davenportpl.')).toBe('davenportplatz');
    expect(normalize('  Hbf ')).toBe('hauptbahnhof');
  });

  it('edit distance counts a swap of neighbours as one edit and stops early', () => {
    expect(editDistance('trippstadter', 'trippstader', 2)).toBe(1);
    expect(editDistance('daimler', 'diamler', 2)).toBe(1);
    expect(editDistance('abcdef', 'uvwxyz', 2)).toBe(3);
    expect(editDistance('kaiserslautern', 'kaiserlsautern', 1)).toBe(1);
  });

  it('house numbers with letters and ranges', () => {
    expect(parseHouseNumber('28a')).toEqual({ n: 28, hi: 28, suffix: 'a' });
    expect(parseHouseNumber('13-15')).toEqual({ n: 13, hi: 15, suffix: '' });
    expect(parseHouseNumber('78 - 82')).toEqual({ n: 78, hi: 82, suffix: '' });
    expect(parseHouseNumber('1A-C')).toEqual({ n: 1, hi: 1, suffix: 'a' });
    expect(parseHouseNumber('Gebäude 3')).toBeNull();
  });
});

describe('geocoder on the Kaiserslautern extract', () => {
  let g: Geocoder;
  beforeAll(async () => {
    g = await geocoderFor(await testEngine());
  });
  const top = (q: string): GeocodeResult => {
    const r = g.search(q, { focus: FOCUS });
    expect(r.length, `no result for "${q}"`).toBeGreaterThan(0);
    return r[0];
  };

  it('indexes thousands of addresses, hundreds of streets and named places', () => {
    expect(g.data.addresses.length).toBeGreaterThan(10_000);
    expect(g.data.streets.length).toBeGreaterThan(500);
    expect(g.data.pois.length).toBeGreaterThan(500);
  });

  it('"Davenportplatz": the square in Uni-Wohnstadt (street first, then its bus stop)', () => {
    const r = g.search('Davenportplatz', { focus: FOCUS });
    expect(r[0]).toMatchObject({ kind: 'street', label: 'Davenportplatz' });
    expect(metres(r[0], { lat: 49.42586, lon: 7.74607 })).toBeLessThan(250);
    expect(r.some((x) => x.kind === 'poi' && x.category === 'bus_stop' && x.label === 'Davenportplatz')).toBe(true);
  });

  it('"trippstadter str 100": no number 100 on the map, so the nearest (101), marked approximate', () => {
    const r = top('trippstadter str 100');
    expect(r).toMatchObject({ kind: 'address', street: 'Trippstadter Straße', housenumber: '101', approximate: true });
  });

  it('exact house numbers, with a letter, a range, or the number first', () => {
    expect(top('Trippstadter Straße 28a')).toMatchObject({ kind: 'address', label: 'Trippstadter Straße 28a' });
    expect(top('trippstadterstr. 28 a')).toMatchObject({ kind: 'address', label: 'Trippstadter Straße 28a' });
    expect(top('trippstadter str 14').approximate).toBeUndefined();
    expect(top('Trippstadter Str. 14, 67663 Kaiserslautern')).toMatchObject({ kind: 'address', housenumber: '14' });
    expect(top('Trippstadter Straße 14')).toMatchObject({ housenumber: '14' });
    expect(top('13 trippstadter')).toMatchObject({ kind: 'address', housenumber: '13-15' });
  });

  it('"Gottlieb-Daimler-Strasse" and other spellings of the campus street', () => {
    for (const q of ['Gottlieb-Daimler-Strasse', 'gottlieb daimler str', 'Gottlieb-Daimler-Straße', 'gottliebdaimlerstr.', 'Gottlieb Diamler Str']) {
      expect(top(q), q).toMatchObject({ kind: 'street', label: 'Gottlieb-Daimler-Straße' });
    }
  });

  it('typos: "Trippstader Straße", "Konrad-Adenauer-Strase 20", "Schroedinger"', () => {
    expect(top('Trippstader Straße')).toMatchObject({ kind: 'street', label: 'Trippstadter Straße' });
    expect(top('Trippstadtr Strasse')).toMatchObject({ label: 'Trippstadter Straße' });
    expect(top('Konrad-Adenauer-Strase 20')).toMatchObject({ kind: 'address', label: 'Konrad-Adenauer-Straße 20' });
    expect(top('Konrad Adenaur Str 20')).toMatchObject({ kind: 'address', label: 'Konrad-Adenauer-Straße 20' });
    expect(top('Schroedinger')).toMatchObject({ label: 'Erwin-Schrödinger-Straße' });
    expect(top('erwin schrodinger strasse')).toMatchObject({ label: 'Erwin-Schrödinger-Straße' });
  });

  it('an address in Uni-Wohnstadt lies in Uni-Wohnstadt', () => {
    const r = top('Kurt-Schumacher-Str. 22');
    expect(r).toMatchObject({ kind: 'address', label: 'Kurt-Schumacher-Straße 22' });
    expect(metres(r, { lat: 49.4262, lon: 7.7432 })).toBeLessThan(700);
  });

  it('prefixes while typing', () => {
    expect(top('gottl')).toMatchObject({ label: 'Gottlieb-Daimler-Straße' });
    expect(top('Kurt-Schu')).toMatchObject({ label: 'Kurt-Schumacher-Straße' });
  });

  it('named places: Mensa, a campus building, the quarter, the station (with "Hbf")', () => {
    expect(top('Mensa')).toMatchObject({ kind: 'poi', label: 'Mensa' });
    expect(top('Gebäude 42')).toMatchObject({ kind: 'poi', label: 'Gebäude 42', category: 'building' });
    expect(top('uni wohnstadt')).toMatchObject({ kind: 'poi', label: 'Uni-Wohnstadt', category: 'place' });
    expect(top('Hbf').label).toMatch(/Hauptbahnhof/);
    expect(top('Universitätsbibliothek').label).toMatch(/Universitätsbibliothek/);
  });

  it('nonsense finds nothing; the limit is respected', () => {
    expect(g.search('xyzzy qwrtz')).toEqual([]);
    expect(g.search('')).toEqual([]);
    expect(g.search('straße', { limit: 3 }).length).toBeLessThanOrEqual(3);
  });

  it('reverse: a house near the point, else the road, else nothing', () => {
    const home = g.reverse(49.4262, 7.7432);
    expect(home).toMatchObject({ kind: 'address', street: 'Konrad-Adenauer-Straße' });
    expect(home!.distance).toBeLessThanOrEqual(40);
    const road = g.reverse(49.42411, 7.75578);
    expect(road?.kind === 'street' || road?.kind === 'address').toBe(true);
    expect(g.reverse(49.0, 7.0)).toBeNull();
  });

  it('is fast enough to search while typing', () => {
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) g.search(`trippstader strase ${i}`, { focus: FOCUS });
    expect((performance.now() - t0) / 50).toBeLessThan(50); // generous for a loaded CI machine; ~4 ms typical
  });

  it('is cached beside the graph: a second load reads the cache, not the XML', async () => {
    const engine = await testEngine();
    const file = geocodeCachePath(engine.info.cacheFile);
    expect(existsSync(file)).toBe(true);
    const again = await loadGeocoder({ osmFile: '/nonexistent.osm.gz', cacheFile: file }); // would throw if it parsed
    expect(again.data.addresses.length).toBe(g.data.addresses.length);
  });
});

describe('extraction from OSM records', () => {
  it('addresses from nodes and building centroids, streets from roads, POIs by category', () => {
    const osm: OsmData = {
      nodeIndex: new Map([[1, 0], [2, 1], [3, 2], [4, 3], [5, 4], [6, 5], [7, 6]]),
      nodeIds: [1, 2, 3, 4, 5, 6, 7],
      lat: [49.0, 49.001, 49.0005, 49.0005, 49.0006, 49.0006, 49.0002],
      lon: [7.0, 7.0, 7.0001, 7.0002, 7.0002, 7.0001, 7.0003],
      nodeTags: new Map([
        [7, { 'addr:street': 'Musterstraße', 'addr:housenumber': '3', name: 'Apotheke am Eck', amenity: 'pharmacy' }],
      ]),
      ways: [
        { id: 10, refs: [1, 2], tags: { highway: 'residential', name: 'Musterstraße' } },
        { id: 11, refs: [3, 4, 5, 6, 3], tags: { building: 'yes', 'addr:street': 'Musterstraße', 'addr:housenumber': '5a' } },
      ],
      relations: [],
    };
    const d = extractGeocodeData(osm);
    expect(d.streets.map((s) => s.name)).toEqual(['Musterstraße']);
    expect(d.addresses.map((a) => a.hn).sort()).toEqual(['3', '5a']);
    const five = d.addresses.find((a) => a.hn === '5a')!;
    expect(five.lat).toBeCloseTo(49.00055, 5); // centroid of the ring, closing vertex counted once
    expect(d.pois).toMatchObject([{ name: 'Apotheke am Eck', cat: 'pharmacy', hn: '3' }]);
    const g = new Geocoder(d);
    expect(g.search('musterstr 5 a')[0]).toMatchObject({ kind: 'address', label: 'Musterstraße 5a' });
    expect(g.search('apotheke')[0]).toMatchObject({ kind: 'poi', context: 'Musterstraße 3' });
  });
});
