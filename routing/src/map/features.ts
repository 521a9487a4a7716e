import type { OsmData, OsmWayRec } from '../osm/read.ts';
import type { Tags } from '../profile.ts';

/**
 * Base-map content of the OSM extract, so the UIs can draw roads, buildings, water, green areas and rail with no
 * tile server and no internet. Extracted once with the graph and cached beside it.
 */
export type Ring = [number, number][];
export interface MapFeatures {
  roads: { cls: string; name?: string; ref?: string; oneway?: boolean; coords: Ring }[];
  buildings: { name?: string; coords: Ring }[];
  water: { coords: Ring }[];
  waterways: { name?: string; coords: Ring }[];
  green: { kind: string; name?: string; coords: Ring }[];
  rail: { kind: string; coords: Ring }[];
}

const GREEN_LANDUSE = new Set(['forest', 'grass', 'meadow', 'recreation_ground', 'cemetery', 'allotments', 'village_green', 'orchard', 'vineyard']);
const GREEN_LEISURE = new Set(['park', 'garden', 'pitch', 'playground', 'golf_course', 'nature_reserve', 'stadium']);
const GREEN_NATURAL = new Set(['wood', 'scrub', 'heath', 'grassland']);

const r5 = (x: number) => Math.round(x * 1e5) / 1e5;

function greenKind(t: Tags): string | null {
  if (t.landuse && GREEN_LANDUSE.has(t.landuse)) return t.landuse;
  if (t.leisure && GREEN_LEISURE.has(t.leisure)) return t.leisure;
  if (t.natural && GREEN_NATURAL.has(t.natural)) return t.natural;
  return null;
}
function isWater(t: Tags): boolean {
  return t.natural === 'water' || t.waterway === 'riverbank' || t.landuse === 'reservoir' || t.landuse === 'basin' || t.water !== undefined;
}

export function extractMapFeatures(osm: OsmData): MapFeatures {
  const f: MapFeatures = { roads: [], buildings: [], water: [], waterways: [], green: [], rail: [] };
  const coordsOf = (w: OsmWayRec): Ring | null => {
    const out: Ring = [];
    for (const ref of w.refs) {
      const i = osm.nodeIndex.get(ref);
      if (i !== undefined) out.push([r5(osm.lon[i]), r5(osm.lat[i])]);
    }
    return out.length >= 2 ? out : null;
  };
  const closed = (w: OsmWayRec) => w.refs.length >= 4 && w.refs[0] === w.refs[w.refs.length - 1];
  const wayById = new Map<number, OsmWayRec>();
  for (const w of osm.ways) wayById.set(w.id, w);

  for (const w of osm.ways) {
    const t = w.tags;
    const c = coordsOf(w);
    if (!c) continue;
    if (t.highway && t.area !== 'yes') {
      f.roads.push({ cls: t.highway, ...(t.name ? { name: t.name } : {}), ...(t.ref ? { ref: t.ref } : {}), ...(t.oneway === 'yes' ? { oneway: true } : {}), coords: c });
    } else if (t.building && closed(w)) {
      f.buildings.push({ ...(t.name ? { name: t.name } : {}), coords: c });
    } else if (isWater(t) && closed(w)) {
      f.water.push({ coords: c });
    } else if (t.waterway && ['river', 'stream', 'canal', 'ditch', 'drain'].includes(t.waterway)) {
      f.waterways.push({ ...(t.name ? { name: t.name } : {}), coords: c });
    } else if (t.railway && ['rail', 'light_rail', 'tram', 'narrow_gauge', 'subway'].includes(t.railway)) {
      f.rail.push({ kind: t.railway, coords: c });
    } else if (closed(w)) {
      const g = greenKind(t);
      if (g) f.green.push({ kind: g, ...(t.name ? { name: t.name } : {}), coords: c });
    }
  }
  // multipolygons: draw their closed outer ways (enough for a base map; holes are rare here)
  for (const rel of osm.relations) {
    if (rel.tags.type !== 'multipolygon') continue;
    const water = isWater(rel.tags), green = greenKind(rel.tags), building = !!rel.tags.building;
    if (!water && !green && !building) continue;
    for (const m of rel.members) {
      if (m.type !== 'way' || m.role !== 'outer') continue;
      const w = wayById.get(m.ref);
      if (!w || !closed(w)) continue;
      const c = coordsOf(w);
      if (!c) continue;
      if (water) f.water.push({ coords: c });
      else if (green) f.green.push({ kind: green, coords: c });
      else f.buildings.push({ coords: c });
    }
  }
  return f;
}

export interface BBox {
  minLon: number;
  minLat: number;
  maxLon: number;
  maxLat: number;
}

type Geo = { type: 'FeatureCollection'; features: { type: 'Feature'; properties: Record<string, unknown>; geometry: { type: string; coordinates: unknown } }[] };

function intersects(coords: Ring, b: BBox): boolean {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const [x, y] of coords) {
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  return maxX >= b.minLon && minX <= b.maxLon && maxY >= b.minLat && minY <= b.maxLat;
}

/** MapLibre-ready GeoJSON layers for a bounding box (features that touch it are included whole). */
export function basemapLayers(f: MapFeatures, bbox: BBox): Record<'roads' | 'buildings' | 'water' | 'green' | 'rail', Geo> {
  const fc = (features: Geo['features']): Geo => ({ type: 'FeatureCollection', features });
  return {
    roads: fc(
      f.roads
        .filter((r) => intersects(r.coords, bbox))
        .map((r) => ({ type: 'Feature', properties: { class: r.cls, name: r.name ?? '', ref: r.ref ?? '', oneway: !!r.oneway }, geometry: { type: 'LineString', coordinates: r.coords } })),
    ),
    buildings: fc(f.buildings.filter((b) => intersects(b.coords, bbox)).map((b) => ({ type: 'Feature', properties: { name: b.name ?? '' }, geometry: { type: 'Polygon', coordinates: [b.coords] } }))),
    water: fc([
      ...f.water.filter((w) => intersects(w.coords, bbox)).map((w) => ({ type: 'Feature' as const, properties: { kind: 'area' }, geometry: { type: 'Polygon', coordinates: [w.coords] } })),
      ...f.waterways.filter((w) => intersects(w.coords, bbox)).map((w) => ({ type: 'Feature' as const, properties: { kind: 'line', name: w.name ?? '' }, geometry: { type: 'LineString', coordinates: w.coords } })),
    ]),
    green: fc(f.green.filter((g) => intersects(g.coords, bbox)).map((g) => ({ type: 'Feature', properties: { kind: g.kind, name: g.name ?? '' }, geometry: { type: 'Polygon', coordinates: [g.coords] } }))),
    rail: fc(f.rail.filter((r) => intersects(r.coords, bbox)).map((r) => ({ type: 'Feature', properties: { kind: r.kind }, geometry: { type: 'LineString', coordinates: r.coords } }))),
  };
}
