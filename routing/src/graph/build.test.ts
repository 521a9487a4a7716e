import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { contract } from '../ch/contract.ts';
import { CHQuery } from '../ch/query.ts';
import { readOsmStream } from '../osm/read.ts';
import { buildRoadGraph } from './build.ts';
import { Dijkstra } from './dijkstra.ts';
import { reverseArcs, searchProblem, type Phantom } from './phantom.ts';
import { Snapper } from './snap.ts';
import { SEG_DESTINATION } from './types.ts';

/**
 * A hand-built plus-shaped junction at C with four arms (N, E, S, W), ~110 m each, and a ring road linking the
 * arm ends so that every turn has a detour:
 *
 *        N ─── NE
 *        │      │
 *   W ── C ──── E
 *   │    │
 *   SW ─ S
 */
const nodes: Record<string, [number, number]> = {
  C: [49.43, 7.75],
  N: [49.431, 7.75],
  E: [49.43, 7.7515],
  S: [49.429, 7.75],
  W: [49.43, 7.7485],
  NE: [49.431, 7.7515],
  SW: [49.429, 7.7485],
};
const ids = Object.fromEntries(Object.keys(nodes).map((k, i) => [k, i + 1]));

function osmXml(ways: { id: number; nds: string[]; tags: Record<string, string> }[], relations = ''): string {
  const n = Object.entries(nodes)
    .map(([k, [lat, lon]]) => `<node id="${ids[k]}" lat="${lat}" lon="${lon}"/>`)
    .join('');
  const w = ways
    .map((way) => `<way id="${way.id}">${way.nds.map((x) => `<nd ref="${ids[x]}"/>`).join('')}${Object.entries(way.tags).map(([k, v]) => `<tag k="${k}" v="${v}"/>`).join('')}</way>`)
    .join('');
  return `<?xml version="1.0"?><osm version="0.6">${n}${w}${relations}</osm>`;
}

const baseWays = (extra: Record<number, Record<string, string>> = {}) =>
  [
    { id: 101, nds: ['S', 'C'], tags: { highway: 'residential', name: 'Südarm' } },
    { id: 102, nds: ['C', 'N'], tags: { highway: 'residential', name: 'Nordarm' } },
    { id: 103, nds: ['C', 'E'], tags: { highway: 'residential', name: 'Ostarm' } },
    { id: 104, nds: ['W', 'C'], tags: { highway: 'residential', name: 'Westarm' } },
    { id: 105, nds: ['N', 'NE', 'E'], tags: { highway: 'residential', name: 'Ring Nord' } },
    { id: 106, nds: ['S', 'SW', 'W'], tags: { highway: 'residential', name: 'Ring Süd' } },
  ].map((w) => ({ ...w, tags: { ...w.tags, ...(extra[w.id] ?? {}) } }));

async function build(xml: string) {
  const osm = await readOsmStream(Readable.from([Buffer.from(xml)]));
  const { graph, stats } = buildRoadGraph(osm);
  const ch = contract(graph);
  const rev = reverseArcs(graph);
  const snapper = new Snapper(graph);
  const route = (a: [number, number], b: [number, number]) => {
    const p = searchProblem(graph, rev, snapper.snap(...a), snapper.snap(...b));
    const viaCh = new CHQuery(ch).route(p);
    const viaDj = new Dijkstra(graph).route(p);
    expect(viaCh.weight).toBe(viaDj.weight);
    const names = viaCh.path.map((e) => graph.strings[graph.segName[e >> 1]]);
    return { weight: viaCh.weight, names: names.filter((x, i) => x !== names[i - 1]) };
  };
  return { graph, stats, route };
}

// points in the middle of the arms
const southArm: [number, number] = [49.4295, 7.75];
const eastArm: [number, number] = [49.43, 7.75075];
const westArm: [number, number] = [49.43, 7.74925];
const northArm: [number, number] = [49.4305, 7.75];

describe('graph import on hand-built OSM', () => {
  it('drives straight through an unrestricted junction', async () => {
    const { route } = await build(osmXml(baseWays()));
    expect(route(southArm, eastArm).names).toEqual(['Südarm', 'Ostarm']);
  });

  it('no_right_turn sends the bus round the ring instead', async () => {
    const rel = `<relation id="1"><member type="way" ref="101" role="from"/><member type="node" ref="${ids.C}" role="via"/><member type="way" ref="103" role="to"/><tag k="type" v="restriction"/><tag k="restriction" v="no_right_turn"/></relation>`;
    const { route, stats } = await build(osmXml(baseWays(), rel));
    expect(stats.restrictions.applied).toBe(1);
    const r = route(southArm, eastArm);
    expect(r.names).not.toEqual(['Südarm', 'Ostarm']);
    expect(r.names[r.names.length - 1]).toBe('Ostarm');
  });

  it('only_straight_on forbids every other exit from that arm', async () => {
    const rel = `<relation id="1"><member type="way" ref="101" role="from"/><member type="node" ref="${ids.C}" role="via"/><member type="way" ref="102" role="to"/><tag k="type" v="restriction"/><tag k="restriction" v="only_straight_on"/></relation>`;
    const { route } = await build(osmXml(baseWays(), rel));
    expect(route(southArm, northArm).names).toEqual(['Südarm', 'Nordarm']);
    expect(route(southArm, westArm).names).not.toEqual(['Südarm', 'Westarm']);
  });

  it('a restriction with except=psv does not bind the minibus', async () => {
    const rel = `<relation id="1"><member type="way" ref="101" role="from"/><member type="node" ref="${ids.C}" role="via"/><member type="way" ref="103" role="to"/><tag k="type" v="restriction"/><tag k="restriction" v="no_right_turn"/><tag k="except" v="psv"/></relation>`;
    const { route } = await build(osmXml(baseWays(), rel));
    expect(route(southArm, eastArm).names).toEqual(['Südarm', 'Ostarm']);
  });

  it('a one-way arm is never driven against its direction', async () => {
    // Ostarm one-way from E to C: S→E must go round the ring
    const { route } = await build(osmXml(baseWays({ 103: { oneway: '-1' } })));
    const r = route(southArm, eastArm);
    expect(r.names[0]).toBe('Südarm');
    expect(r.names).toContain('Ring Nord');
  });

  it('private roads are not in the graph; destination roads are, with a penalty', async () => {
    const { graph } = await build(osmXml(baseWays({ 104: { access: 'private' }, 102: { access: 'destination' } })));
    const names = new Set(Array.from(graph.segName, (n) => graph.strings[n]));
    expect(names.has('Westarm')).toBe(false);
    const nord = Array.from(graph.segName).findIndex((n) => graph.strings[n] === 'Nordarm');
    expect(graph.segFlags[nord] & SEG_DESTINATION).toBeTruthy();
    expect(graph.ebnWeight[2 * nord]).toBeGreaterThan(graph.ebnDuration[2 * nord]);
  });

  it('keeps name and ref of ways on their segments, and splits ways only at intersections', async () => {
    const { graph } = await build(osmXml(baseWays({ 105: { ref: 'K 1' } })));
    const ring = Array.from(graph.segName).findIndex((n) => graph.strings[n] === 'Ring Nord');
    expect(graph.strings[graph.segRef[ring]]).toBe('K 1');
    // Ring Nord has the shape point NE in the middle: one segment with three coordinates
    expect(graph.segGeomFirst[ring + 1] - graph.segGeomFirst[ring]).toBe(3);
  });
});

describe('snapping', () => {
  it('projects onto the segment, not the nearest node, and refuses points beyond 500 m', async () => {
    const osm = await readOsmStream(Readable.from([Buffer.from(osmXml(baseWays()))]));
    const { graph } = buildRoadGraph(osm);
    const snapper = new Snapper(graph);
    const p: Phantom = snapper.snap(49.4295, 7.7502); // ~15 m east of the middle of Südarm
    expect(graph.strings[graph.segName[p.seg]]).toBe('Südarm');
    expect(p.lon).toBeCloseTo(7.75, 6);
    expect(p.lat).toBeCloseTo(49.4295, 5);
    expect(p.snapDistance).toBeGreaterThan(10);
    expect(p.snapDistance).toBeLessThan(20);
    expect(p.fraction).toBeGreaterThan(0.3);
    expect(p.fraction).toBeLessThan(0.7);
    expect(() => snapper.snap(49.45, 7.75)).toThrow(/no drivable road within 500 m/);
  });
});
