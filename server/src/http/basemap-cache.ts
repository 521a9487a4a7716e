import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { basemapLayers, type BBox, type MapFeatures } from '@kl/routing';

const gzip = promisify(gzipCb);

/** Grid the requested boxes are widened to, so nearby requests share one cached answer (≈ 1.1 km × 0.7 km). */
export const BASEMAP_GRID_DEG = 0.01;

export const BASEMAP_LAYERS = ['roads', 'buildings', 'water', 'green', 'rail'] as const;
export type BasemapLayerName = (typeof BASEMAP_LAYERS)[number];

export interface BasemapBody {
  /** the JSON text, and its gzip (≈ 8× smaller), ready to send */
  readonly json: Buffer;
  readonly gzip: Buffer;
  readonly etag: string;
}

/** Widens a box outwards to the grid; the key names the widened box. */
export function gridBox(b: BBox): { box: BBox; key: string } {
  const down = (x: number) => Math.floor(x / BASEMAP_GRID_DEG + 1e-9) * BASEMAP_GRID_DEG;
  const up = (x: number) => Math.ceil(x / BASEMAP_GRID_DEG - 1e-9) * BASEMAP_GRID_DEG;
  const box = { minLon: down(b.minLon), minLat: down(b.minLat), maxLon: up(b.maxLon), maxLat: up(b.maxLat) };
  const key = [box.minLon, box.minLat, box.maxLon, box.maxLat].map((x) => x.toFixed(2)).join(',');
  return { box, key };
}

/**
 * Serialised base-map answers per grid box. Building one (clip + JSON of several MB) blocks the event loop for
 * 0.1–0.7 s, longer than a bus's control heartbeat; doing it per request made the whole simulated fleet stop
 * safely whenever a UI loaded. Now each box is built once (concurrent requests share the promise), gzipped off
 * the event loop, and the default box is built at start-up before clients arrive.
 */
export class BasemapCache {
  /** per grid box: the whole answer (`all`) and each layer on its own as a plain FeatureCollection */
  private readonly entries = new Map<string, Promise<Record<BasemapLayerName | 'all', BasemapBody>>>();
  constructor(
    private readonly features: () => Promise<MapFeatures>,
    private readonly attribution: string,
    private readonly maxEntries = 8,
  ) {}

  /**
   * The whole base map of a box, or one layer as a FeatureCollection: a map can then hand the layer's URL to
   * MapLibre, whose worker fetches and parses it, so the page's main thread never holds megabytes of JSON.
   */
  async get(b: BBox, layer: BasemapLayerName | 'all' = 'all'): Promise<BasemapBody> {
    return (await this.box(b))[layer];
  }

  private box(b: BBox): Promise<Record<BasemapLayerName | 'all', BasemapBody>> {
    const { box, key } = gridBox(b);
    let p = this.entries.get(key);
    if (p) {
      // most recently used last, so the oldest is evicted first
      this.entries.delete(key);
      this.entries.set(key, p);
      return p;
    }
    p = this.build(box, key);
    p.catch(() => this.entries.delete(key)); // a failed build is not remembered
    this.entries.set(key, p);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    return p;
  }

  get size(): number {
    return this.entries.size;
  }

  private async build(box: BBox, key: string): Promise<Record<BasemapLayerName | 'all', BasemapBody>> {
    const layers = basemapLayers(await this.features(), box);
    const body = async (name: string, json: Buffer): Promise<BasemapBody> => ({ json, gzip: await gzip(json, { level: 6 }), etag: `"bm-${key}-${name}-${json.length}"` });
    // each layer is serialised once; the whole answer is put together from those texts, not serialised again
    const texts = BASEMAP_LAYERS.map((name) => Buffer.from(JSON.stringify(layers[name])));
    const head = JSON.stringify({ attribution: this.attribution, bbox: [box.minLon, box.minLat, box.maxLon, box.maxLat] }).slice(0, -1);
    const parts: Buffer[] = [Buffer.from(`${head},"layers":{`)];
    BASEMAP_LAYERS.forEach((name, i) => parts.push(Buffer.from(`${i ? ',' : ''}${JSON.stringify(name)}:`), texts[i]!));
    parts.push(Buffer.from('}}'));
    const out = { all: await body('all', Buffer.concat(parts)) } as Record<BasemapLayerName | 'all', BasemapBody>;
    for (const [i, name] of BASEMAP_LAYERS.entries()) out[name] = await body(name, texts[i]!);
    return out;
  }
}
