import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { StringDecoder } from 'node:string_decoder';
import { SaxesParser } from 'saxes';
import type { Tags } from '../profile.ts';

/**
 * Streaming OSM XML reader (saxes). Keeps only what the graph, the base map and the geocoder need:
 * node coordinates (all), tags of interesting nodes, ways with their tags and node refs, restriction and
 * multipolygon relations. Never holds the XML in memory.
 */
export interface OsmNodeRec {
  id: number;
  lat: number;
  lon: number;
  tags?: Tags;
}
export interface OsmWayRec {
  id: number;
  refs: number[];
  tags: Tags;
}
export interface OsmMember {
  type: 'node' | 'way' | 'relation';
  ref: number;
  role: string;
}
export interface OsmRelationRec {
  id: number;
  members: OsmMember[];
  tags: Tags;
}
export interface OsmData {
  bounds?: { minLat: number; minLon: number; maxLat: number; maxLon: number };
  /** node id → index into lat/lon */
  nodeIndex: Map<number, number>;
  nodeIds: number[];
  lat: number[];
  lon: number[];
  /** tags of nodes that carry any tag we keep (signals, barriers, addresses, names) */
  nodeTags: Map<number, Tags>;
  ways: OsmWayRec[];
  relations: OsmRelationRec[];
}

/** Node tag keys worth keeping; every other tagged node is just a coordinate to us. */
const NODE_KEYS = /^(highway|barrier|access|motor_vehicle|motorcar|vehicle|name|addr:.*|amenity|shop|public_transport|railway|tourism|place|office)$/;

export async function readOsmFile(path: string): Promise<OsmData> {
  const stream = createReadStream(path);
  const source = path.endsWith('.gz') ? stream.pipe(createGunzip()) : stream;
  return readOsmStream(source);
}

export async function readOsmStream(source: AsyncIterable<Buffer | string>): Promise<OsmData> {
  const data: OsmData = { nodeIndex: new Map(), nodeIds: [], lat: [], lon: [], nodeTags: new Map(), ways: [], relations: [] };
  const parser = new SaxesParser();
  let cur: { kind: 'node' | 'way' | 'relation'; id: number; lat?: number; lon?: number; tags: Record<string, string>; refs: number[]; members: OsmMember[] } | null = null;
  let error: Error | null = null;

  parser.on('error', (e) => {
    error = e;
  });
  parser.on('opentag', (tag) => {
    const a = tag.attributes as Record<string, string>;
    switch (tag.name) {
      case 'bound': {
        const box = (a.box ?? '').split(',').map(Number);
        if (box.length === 4 && box.every(Number.isFinite)) data.bounds = { minLat: box[0], minLon: box[1], maxLat: box[2], maxLon: box[3] };
        break;
      }
      case 'bounds':
        data.bounds = { minLat: Number(a.minlat), minLon: Number(a.minlon), maxLat: Number(a.maxlat), maxLon: Number(a.maxlon) };
        break;
      case 'node':
        cur = { kind: 'node', id: Number(a.id), lat: Number(a.lat), lon: Number(a.lon), tags: {}, refs: [], members: [] };
        break;
      case 'way':
        cur = { kind: 'way', id: Number(a.id), tags: {}, refs: [], members: [] };
        break;
      case 'relation':
        cur = { kind: 'relation', id: Number(a.id), tags: {}, refs: [], members: [] };
        break;
      case 'tag':
        if (cur && a.k !== undefined) cur.tags[a.k] = a.v ?? '';
        break;
      case 'nd':
        if (cur?.kind === 'way') cur.refs.push(Number(a.ref));
        break;
      case 'member':
        if (cur?.kind === 'relation' && (a.type === 'node' || a.type === 'way' || a.type === 'relation')) {
          cur.members.push({ type: a.type, ref: Number(a.ref), role: a.role ?? '' });
        }
        break;
    }
  });
  parser.on('closetag', (tag) => {
    if (!cur || tag.name !== cur.kind) return;
    if (cur.kind === 'node') {
      if (Number.isFinite(cur.lat) && Number.isFinite(cur.lon) && Number.isFinite(cur.id)) {
        data.nodeIndex.set(cur.id, data.nodeIds.length);
        data.nodeIds.push(cur.id);
        data.lat.push(cur.lat!);
        data.lon.push(cur.lon!);
        let kept: Record<string, string> | null = null;
        for (const k in cur.tags) {
          if (NODE_KEYS.test(k)) (kept ??= {})[k] = cur.tags[k];
        }
        if (kept) data.nodeTags.set(cur.id, kept);
      }
    } else if (cur.kind === 'way') {
      if (cur.refs.length >= 2) data.ways.push({ id: cur.id, refs: cur.refs, tags: cur.tags });
    } else {
      const type = cur.tags.type;
      if (type === 'restriction' || type === 'multipolygon') data.relations.push({ id: cur.id, members: cur.members, tags: cur.tags });
    }
    cur = null;
  });

  // A decoder, not Buffer#toString, so a multi-byte character split across chunks (ä, ß) stays whole.
  const decoder = new StringDecoder('utf8');
  for await (const chunk of source) {
    parser.write(typeof chunk === 'string' ? chunk : decoder.write(chunk));
    if (error) throw new Error(`OSM XML parse error: ${(error as Error).message}`);
  }
  parser.write(decoder.end());
  parser.close();
  if (error) throw new Error(`OSM XML parse error: ${(error as Error).message}`);
  return data;
}
