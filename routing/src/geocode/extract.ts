import type { OsmData, OsmWayRec } from '../osm/read.ts';
import type { Tags } from '../profile.ts';

/**
 * What the geocoder knows, extracted once from the OSM extract and cached beside the road graph:
 * - streets: every name of a `highway` way and every `addr:street`, with a representative point and the road
 *   vertices (for reverse look-ups);
 * - addresses: `addr:street` + `addr:housenumber` on nodes (their position) and on building ways (centroid);
 * - POIs: named amenities, shops, tourism, offices, public-transport stops, stations, places and named buildings.
 */
export interface GeoStreet {
  name: string;
  lat: number;
  lon: number;
}
export interface GeoAddress {
  /** index into streets */
  s: number;
  hn: string;
  lat: number;
  lon: number;
  postcode?: string;
}
export interface GeoPoi {
  name: string;
  /** "amenity=pharmacy" → "pharmacy", a bus stop → "bus_stop", a named building → "building" */
  cat: string;
  lat: number;
  lon: number;
  /** index into streets: the address street, or the nearest named road */
  s?: number;
  hn?: string;
}
export interface GeocodeData {
  streets: GeoStreet[];
  addresses: GeoAddress[];
  pois: GeoPoi[];
  /** named road vertices for reverse geocoding: flat [lon, lat, streetIndex, …] */
  roadPoints: number[];
}

const r6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** Named roads that people live on or travel to (no motorways: nobody is picked up there). */
const ADDRESSABLE_HIGHWAY = /^(primary|secondary|tertiary|unclassified|residential|living_street|pedestrian|service|road|trunk|primary_link|secondary_link|tertiary_link|footway|path|cycleway|track|steps)$/;

function poiCategory(t: Tags): string | null {
  if (t.amenity) return t.amenity;
  if (t.shop) return `shop:${t.shop}`;
  if (t.tourism) return t.tourism;
  if (t.office) return 'office';
  if (t.public_transport === 'stop_position' || t.public_transport === 'platform' || t.highway === 'bus_stop') return 'bus_stop';
  if (t.railway === 'station' || t.railway === 'halt') return 'station';
  if (t.place && ['suburb', 'quarter', 'neighbourhood', 'village', 'hamlet', 'locality', 'square'].includes(t.place)) return 'place';
  if (t.leisure) return t.leisure;
  if (t.building) return 'building';
  return null;
}

export function extractGeocodeData(osm: OsmData): GeocodeData {
  const streets: GeoStreet[] = [];
  const streetIndex = new Map<string, number>();
  const streetSums = new Map<number, { lat: number; lon: number; n: number; pts: [number, number][] }>();
  const roadPoints: number[] = [];
  const streetId = (name: string): number => {
    let i = streetIndex.get(name);
    if (i === undefined) {
      i = streets.length;
      streets.push({ name, lat: 0, lon: 0 });
      streetIndex.set(name, i);
    }
    return i;
  };
  const coordsOf = (w: OsmWayRec): [number, number][] => {
    const out: [number, number][] = [];
    for (const ref of w.refs) {
      const i = osm.nodeIndex.get(ref);
      if (i !== undefined) out.push([osm.lon[i], osm.lat[i]]);
    }
    return out;
  };
  const centroid = (c: [number, number][]): [number, number] | null => {
    if (!c.length) return null;
    // a closed ring repeats its first vertex: count it once
    const pts = c.length > 3 && c[0][0] === c[c.length - 1][0] && c[0][1] === c[c.length - 1][1] ? c.slice(0, -1) : c;
    let x = 0, y = 0;
    for (const [lon, lat] of pts) {
      x += lon;
      y += lat;
    }
    return [x / pts.length, y / pts.length];
  };

  // 1. named roads
  for (const w of osm.ways) {
    const t = w.tags;
    if (!t.highway || !t.name || !ADDRESSABLE_HIGHWAY.test(t.highway)) continue;
    const s = streetId(t.name);
    const c = coordsOf(w);
    let acc = streetSums.get(s);
    if (!acc) streetSums.set(s, (acc = { lat: 0, lon: 0, n: 0, pts: [] }));
    for (const [lon, lat] of c) {
      acc.lat += lat;
      acc.lon += lon;
      acc.n++;
      acc.pts.push([lon, lat]);
      roadPoints.push(r6(lon), r6(lat), s);
    }
  }

  // 2. addresses (nodes, then building ways and other closed ways with an address)
  const addresses: GeoAddress[] = [];
  const seenAddr = new Set<string>();
  const addAddress = (t: Tags, lon: number, lat: number) => {
    const street = t['addr:street'] ?? t['addr:place'];
    const hn = t['addr:housenumber'];
    if (!street || !hn) return;
    const s = streetId(street);
    const key = `${s}|${hn.toLowerCase()}|${lat.toFixed(4)}|${lon.toFixed(4)}`;
    if (seenAddr.has(key)) return;
    seenAddr.add(key);
    addresses.push({ s, hn: hn.trim(), lat: r6(lat), lon: r6(lon), ...(t['addr:postcode'] ? { postcode: t['addr:postcode'] } : {}) });
  };
  for (const [id, t] of osm.nodeTags) {
    const i = osm.nodeIndex.get(id);
    if (i !== undefined) addAddress(t, osm.lon[i], osm.lat[i]);
  }
  const wayCentroids = new Map<number, [number, number]>();
  for (const w of osm.ways) {
    const t = w.tags;
    if (!t['addr:housenumber'] && !t.name) continue;
    const c = centroid(coordsOf(w));
    if (!c) continue;
    wayCentroids.set(w.id, c);
    addAddress(t, c[0], c[1]);
  }

  // streets that only appear in addresses get the mean of their addresses as their point
  const addrOnly = new Map<number, { lat: number; lon: number; n: number; pts: [number, number][] }>();
  for (const a of addresses) {
    if (streetSums.has(a.s)) continue;
    let acc = addrOnly.get(a.s);
    if (!acc) addrOnly.set(a.s, (acc = { lat: 0, lon: 0, n: 0, pts: [] }));
    acc.lat += a.lat;
    acc.lon += a.lon;
    acc.n++;
    acc.pts.push([a.lon, a.lat]);
  }
  for (const [s, acc] of addrOnly) streetSums.set(s, acc);
  // representative point: the street's own vertex nearest to the mean of its vertices (always on the street)
  for (const [s, acc] of streetSums) {
    const mLat = acc.lat / acc.n, mLon = acc.lon / acc.n;
    let best = acc.pts[0], bd = Infinity;
    for (const p of acc.pts) {
      const d = (p[1] - mLat) ** 2 + ((p[0] - mLon) * 0.65) ** 2;
      if (d < bd) {
        bd = d;
        best = p;
      }
    }
    streets[s].lat = r6(best[1]);
    streets[s].lon = r6(best[0]);
  }

  // 3. POIs: named nodes and named ways with a category; stops named alike within 150 m are one place
  const pois: GeoPoi[] = [];
  const addPoi = (t: Tags, lon: number, lat: number) => {
    const name = t.name?.trim();
    if (!name) return;
    if (t.highway && !t['public_transport'] && t.highway !== 'bus_stop') return; // roads are streets, not POIs
    const cat = poiCategory(t);
    if (!cat) return;
    for (const p of pois) {
      if (p.name === name && Math.abs(p.lat - lat) < 0.0014 && Math.abs(p.lon - lon) < 0.002) return;
    }
    const street = t['addr:street'];
    pois.push({
      name,
      cat,
      lat: r6(lat),
      lon: r6(lon),
      ...(street ? { s: streetId(street) } : {}),
      ...(street && t['addr:housenumber'] ? { hn: t['addr:housenumber'] } : {}),
    });
  };
  for (const [id, t] of osm.nodeTags) {
    const i = osm.nodeIndex.get(id);
    if (i !== undefined) addPoi(t, osm.lon[i], osm.lat[i]);
  }
  for (const w of osm.ways) {
    if (!w.tags.name || w.tags.highway) continue;
    const c = wayCentroids.get(w.id);
    if (c) addPoi(w.tags, c[0], c[1]);
  }
  // fill in streets that were only named by a POI's address
  for (const p of pois) {
    if (p.s !== undefined && streets[p.s].lat === 0 && streets[p.s].lon === 0) {
      streets[p.s].lat = p.lat;
      streets[p.s].lon = p.lon;
    }
  }
  return { streets, addresses, pois, roadPoints };
}
