import type { RoutingEngine } from '../engine.ts';
import { readCache, writeCache } from '../graph/cache.ts';
import { readOsmFile } from '../osm/read.ts';
import { extractGeocodeData, type GeocodeData } from './extract.ts';
import { Geocoder } from './geocoder.ts';

/** Bump when the extracted data change shape or content, so an old cache is never served. */
export const GEOCODE_VERSION = 1;

/** The geocoder's cache file sits beside the graph cache (same OSM hash in the name). */
export function geocodeCachePath(graphCacheFile: string): string {
  return graphCacheFile.replace(/\.bin$/, `.geocode-v${GEOCODE_VERSION}.bin`);
}

/**
 * Loads the geocoder for an OSM file: from the cache when present (tens of ms), else by reading the extract once
 * (about 2 s) and caching the result, so warm starts never parse XML.
 */
export async function loadGeocoder(o: { osmFile: string; cacheFile: string; log?: (m: string) => void }): Promise<Geocoder> {
  const cached = await readCache<{ data: string }>(o.cacheFile);
  if (cached) return new Geocoder(JSON.parse(cached.data) as GeocodeData);
  o.log?.(`geocoder: indexing addresses, streets and places of ${o.osmFile}`);
  const data = extractGeocodeData(await readOsmFile(o.osmFile));
  await writeCache(o.cacheFile, { data: JSON.stringify(data) });
  return new Geocoder(data);
}

const perEngine = new WeakMap<RoutingEngine, Promise<Geocoder>>();

/** One geocoder per routing engine (same OSM file and cache directory), built on first use. */
export function geocoderFor(engine: RoutingEngine, log?: (m: string) => void): Promise<Geocoder> {
  let g = perEngine.get(engine);
  if (!g) {
    // the engine keeps the path of the extract it was built from private; the geocoder must read the same file
    const osmFile = engine['osmFile'];
    g = loadGeocoder({ osmFile, cacheFile: geocodeCachePath(engine.info.cacheFile), log });
    g.catch(() => perEngine.delete(engine)); // a failed load is retried on the next request
    perEngine.set(engine, g);
  }
  return g;
}
