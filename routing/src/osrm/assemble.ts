import { bearingDeg, turnAngle } from '../graph/geo.ts';
import { sourceSeeds, targetSeeds, type Phantom } from '../graph/phantom.ts';
import { ebnHead, SEG_ROUNDABOUT, type RoadGraph } from '../graph/types.ts';
import type { LonLat, OsrmIntersection, OsrmLeg, OsrmStep } from './types.ts';

/**
 * Turns an EBN path into an OSRM v5 leg: trimmed geometry, per-step distance/duration, and maneuvers derived
 * from the real geometry and topology of each intersection (angles between the incoming and outgoing pieces,
 * the other legal exits, names, roundabout flags). A bend without a choice and without a name change makes no
 * step, as in OSRM.
 */

interface Drive {
  ebn: number;
  coords: LonLat[];
  distance: number;
  durationMs: number;
  weightMs: number;
}

const MOTORWAY = new Set(['motorway', 'trunk']);
const LINK = new Set(['motorway_link', 'trunk_link']);

function ebnCoords(g: RoadGraph, ebn: number): LonLat[] {
  const s = ebn >> 1, a = g.segGeomFirst[s], b = g.segGeomFirst[s + 1];
  const out: LonLat[] = [];
  if (ebn & 1) for (let k = b - 1; k >= a; k--) out.push([g.coordLon[k], g.coordLat[k]]);
  else for (let k = a; k < b; k++) out.push([g.coordLon[k], g.coordLat[k]]);
  return out;
}

/** bearing of the EBN's last piece (into its head node) and of its first piece (out of its tail node) */
function endBearings(g: RoadGraph, ebn: number): { first: number; last: number } {
  const c = ebnCoords(g, ebn);
  const n = c.length;
  return {
    first: bearingDeg(c[0][1], c[0][0], c[1][1], c[1][0]),
    last: bearingDeg(c[n - 2][1], c[n - 2][0], c[n - 1][1], c[n - 1][0]),
  };
}

function arcIndex(g: RoadGraph, a: number, b: number): number {
  for (let k = g.arcFirst[a]; k < g.arcFirst[a + 1]; k++) if (g.arcHead[k] === b) return k;
  return -1;
}

export function drives(g: RoadGraph, src: Phantom, tgt: Phantom, path: number[]): Drive[] {
  const out: Drive[] = [];
  const sSeeds = sourceSeeds(g, src);
  const tSeeds = targetSeeds(g, tgt);
  for (let i = 0; i < path.length; i++) {
    const e = path[i], s = e >> 1, first = g.segGeomFirst[s], last = g.segGeomFirst[s + 1] - 1;
    const isFirst = i === 0, isLast = i === path.length - 1;
    let from = e & 1 ? last : first, to = e & 1 ? first : last; // coordinate indices in driving order
    const coords: LonLat[] = [];
    if (isFirst) coords.push([src.lon, src.lat]);
    // first coordinate index after the source phantom / last one before the target phantom
    if (isFirst) from = e & 1 ? first + src.piece : first + src.piece + 1;
    if (isLast) to = e & 1 ? first + tgt.piece + 1 : first + tgt.piece;
    if (e & 1) for (let k = from; k >= to; k--) coords.push([g.coordLon[k], g.coordLat[k]]);
    else for (let k = from; k <= to; k++) coords.push([g.coordLon[k], g.coordLat[k]]);
    if (isLast) coords.push([tgt.lon, tgt.lat]);
    let dur = 0, w = 0, dist = 0;
    if (isFirst) {
      const seed = sSeeds.find((x) => x.ebn === e)!;
      dur += seed.dur;
      w += seed.offset;
      dist += seed.len;
    } else {
      const k = arcIndex(g, path[i - 1], e);
      dur += g.arcTurnDuration[k] + g.ebnDuration[e];
      w += g.arcTurnWeight[k] + g.ebnWeight[e];
      dist += g.segLength[s];
    }
    if (isLast) {
      const seed = tSeeds.find((x) => x.ebn === e)!;
      dur += seed.dur;
      w += seed.offset;
      dist += seed.len;
    }
    // drop (near-)zero-length pieces (phantom on a shape point) so bearings stay defined
    const clean: LonLat[] = [];
    for (const c of coords) {
      const p = clean[clean.length - 1];
      if (!p || Math.abs(p[0] - c[0]) > 1e-7 || Math.abs(p[1] - c[1]) > 1e-7) clean.push(c);
    }
    out.push({ ebn: e, coords: clean, distance: Math.max(0, dist), durationMs: Math.max(0, dur), weightMs: Math.max(0, w) });
  }
  return out;
}

function modifierOf(angle: number): string {
  const a = Math.abs(angle);
  if (a >= 170) return 'uturn';
  const side = angle < 0 ? 'left' : 'right';
  if (a < 20) return 'straight';
  if (a < 60) return `slight ${side}`;
  if (a < 140) return side;
  return `sharp ${side}`;
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const roundB = (b: number) => Math.round(b) % 360;

interface Junction {
  node: number;
  bearingIn: number;
  bearingOut: number;
  angle: number;
  /** legal exits other than the one taken and the U-turn: their turn angles and EBNs */
  others: { ebn: number; angle: number }[];
  intersection: OsrmIntersection;
}

function junctionAt(g: RoadGraph, a: number, b: number): Junction {
  const v = ebnHead(g, a);
  const bearingIn = endBearings(g, a).last;
  const bearingOut = endBearings(g, b).first;
  const others: { ebn: number; angle: number }[] = [];
  const allowed = new Set<number>();
  for (let k = g.arcFirst[a]; k < g.arcFirst[a + 1]; k++) {
    const c = g.arcHead[k];
    allowed.add(c);
    if (c === b || c === (a ^ 1)) continue;
    others.push({ ebn: c, angle: turnAngle(bearingIn, endBearings(g, c).first) });
  }
  // every road at the node, as the bearing of driving away from the node along it
  const roads: { bearing: number; ebn: number }[] = [];
  for (let k = g.nodeSegFirst[v]; k < g.nodeSegFirst[v + 1]; k++) {
    const s = g.nodeSegList[k] >> 1, end = g.nodeSegList[k] & 1;
    const leave = end === 1 ? s * 2 + 1 : s * 2;
    roads.push({ bearing: roundB(endBearings(g, leave).first), ebn: leave });
  }
  roads.sort((x, y) => x.bearing - y.bearing || x.ebn - y.ebn);
  const intersection: OsrmIntersection = {
    location: [g.nodeLon[v], g.nodeLat[v]],
    bearings: roads.map((r) => r.bearing),
    entry: roads.map((r) => allowed.has(r.ebn)),
    in: roads.findIndex((r) => r.ebn === (a ^ 1)),
    out: roads.findIndex((r) => r.ebn === b),
  };
  return { node: v, bearingIn, bearingOut, angle: turnAngle(bearingIn, bearingOut), others, intersection };
}

/** What a driver reads as "the same road": the name; the ref only for roads without a name. */
function nameKey(g: RoadGraph, ebn: number): string {
  const s = ebn >> 1;
  if (g.segName[s] >= 0) return g.strings[g.segName[s]];
  return g.segRef[s] >= 0 ? `ref:${g.strings[g.segRef[s]]}` : '';
}

export function assembleLeg(g: RoadGraph, src: Phantom, tgt: Phantom, path: number[]): { leg: OsrmLeg; coords: LonLat[] } {
  const ds = drives(g, src, tgt, path);
  const steps: OsrmStep[] = [];
  const nameOf = (e: number) => (g.segName[e >> 1] >= 0 ? g.strings[g.segName[e >> 1]] : '');
  const refOf = (e: number) => (g.segRef[e >> 1] >= 0 ? g.strings[g.segRef[e >> 1]] : undefined);
  const clsOf = (e: number) => g.classes[g.segClass[e >> 1]];
  const isRb = (e: number) => (g.segFlags[e >> 1] & SEG_ROUNDABOUT) !== 0;

  const firstCoords = ds[0].coords;
  const departBearing = firstCoords.length > 1 ? bearingDeg(firstCoords[0][1], firstCoords[0][0], firstCoords[1][1], firstCoords[1][0]) : endBearings(g, ds[0].ebn).first;
  let cur: OsrmStep = newStep(ds[0].ebn, {
    type: 'depart',
    location: [src.lon, src.lat],
    bearing_before: 0,
    bearing_after: roundB(departBearing),
  });
  cur.intersections.push({ location: [src.lon, src.lat], bearings: [roundB(departBearing)], entry: [true], out: 0 });
  let roundaboutStep: OsrmStep | null = null;
  let exitsPassed = 0;

  function newStep(ebn: number, maneuver: OsrmStep['maneuver']): OsrmStep {
    const ref = refOf(ebn);
    return {
      distance: 0,
      duration: 0,
      weight: 0,
      name: nameOf(ebn),
      ...(ref ? { ref } : {}),
      mode: 'driving',
      driving_side: 'right',
      geometry: { type: 'LineString', coordinates: [] },
      maneuver,
      intersections: [],
    };
  }
  const addDrive = (step: OsrmStep, d: Drive) => {
    step.distance += d.distance;
    step.duration += d.durationMs / 1000;
    step.weight += d.weightMs / 1000;
    const c = step.geometry.coordinates;
    for (const p of d.coords) {
      const last = c[c.length - 1];
      if (!last || last[0] !== p[0] || last[1] !== p[1]) c.push(p);
    }
  };
  addDrive(cur, ds[0]);

  for (let i = 1; i < ds.length; i++) {
    const a = ds[i - 1].ebn, b = ds[i].ebn;
    const j = junctionAt(g, a, b);
    const loc = j.intersection.location;
    let maneuver: OsrmStep['maneuver'] | null = null;
    const base = { location: loc, bearing_before: roundB(j.bearingIn), bearing_after: roundB(j.bearingOut) };

    if (!isRb(a) && isRb(b)) {
      maneuver = { ...base, type: 'roundabout', modifier: 'straight', exit: 0 };
      exitsPassed = 0;
    } else if (isRb(a) && isRb(b)) {
      // inside the roundabout: each legal way out that we pass counts as an exit
      if (j.others.some((o) => !isRb(o.ebn))) exitsPassed++;
    } else if (isRb(a) && !isRb(b)) {
      exitsPassed++;
      if (roundaboutStep) {
        roundaboutStep.maneuver.exit = exitsPassed;
        roundaboutStep.maneuver.modifier = modifierOf(turnAngle(roundaboutStep.maneuver.bearing_before, j.bearingOut));
        if (roundaboutStep.maneuver.modifier === 'uturn') roundaboutStep.maneuver.modifier = 'sharp left';
        roundaboutStep = null;
      }
      // As OSRM without `roundabout_exits`: no separate exit step; the roundabout step carries the exit road's name.
      cur.name = nameOf(b);
      const exitRef = refOf(b);
      if (exitRef) cur.ref = exitRef;
      else delete cur.ref;
      cur.intersections.push(j.intersection);
    } else {
      const mod = modifierOf(j.angle);
      const sameName = nameKey(g, a) === nameKey(g, b) && nameOf(b) !== '';
      const straightish = Math.abs(j.angle) < 35;
      const rivals = j.others.filter((o) => Math.abs(o.angle) < 45);
      const fromCls = clsOf(a), toCls = clsOf(b);
      if (b === (a ^ 1)) maneuver = { ...base, type: 'continue', modifier: 'uturn' };
      else if (j.others.length === 0) {
        // no choice at all: only a change to another *named* road is worth saying (a nameless connector is a bend)
        if (nameKey(g, a) !== nameKey(g, b) && nameOf(b) !== '') maneuver = { ...base, type: 'new name', modifier: mod === 'uturn' ? 'straight' : mod };
      } else if (LINK.has(fromCls) && MOTORWAY.has(toCls) && straightish) {
        maneuver = { ...base, type: 'merge', modifier: j.angle < 0 ? 'slight left' : 'slight right' };
      } else if (!LINK.has(fromCls) && !MOTORWAY.has(fromCls) && LINK.has(toCls)) {
        maneuver = { ...base, type: 'on ramp', modifier: mod };
      } else if (MOTORWAY.has(fromCls) && LINK.has(toCls)) {
        maneuver = { ...base, type: 'off ramp', modifier: j.angle < 0 ? 'slight left' : 'slight right' };
      } else if (straightish && rivals.length > 0 && !sameName && Math.abs(j.angle) > 5 && rivals.every((r) => Math.sign(r.angle) !== Math.sign(j.angle) || Math.abs(r.angle) > Math.abs(j.angle))) {
        // two roads of similar direction: a fork, named by the side we keep to
        maneuver = { ...base, type: 'fork', modifier: j.angle < 0 ? 'slight left' : 'slight right' };
      } else if (straightish && j.others.every((o) => Math.abs(o.angle) > Math.abs(j.angle) + 20)) {
        // the obvious way on: no step unless the name changes to another named road
        if (!sameName && nameOf(b) !== '') maneuver = { ...base, type: 'new name', modifier: mod };
      } else if (straightish && sameName && j.others.every((o) => Math.abs(o.angle - j.angle) > 10)) {
        // staying on the same street through a crossing: nothing to say
      } else if (!straightish && Math.abs(j.angle) < 140 && j.others.every((o) => Math.abs(o.angle) >= 35) && j.others.some((o) => Math.sign(o.angle) !== Math.sign(j.angle))) {
        // T-junction: the road we came on ends, left or right
        maneuver = { ...base, type: 'end of road', modifier: j.angle < 0 ? 'left' : 'right' };
      } else if (sameName) {
        maneuver = { ...base, type: 'continue', modifier: mod };
      } else {
        maneuver = { ...base, type: 'turn', modifier: mod };
      }
    }

    if (maneuver) {
      steps.push(cur);
      cur = newStep(b, maneuver);
      if (maneuver.type === 'roundabout') roundaboutStep = cur;
      cur.intersections.push(j.intersection);
    } else if (j.intersection.bearings.length > 2) {
      cur.intersections.push(j.intersection);
    }
    addDrive(cur, ds[i]);
  }
  if (roundaboutStep) {
    // the route ends inside the roundabout
    roundaboutStep.maneuver.exit = Math.max(1, exitsPassed);
  }
  steps.push(cur);
  collapseShortNameChanges(steps);

  // arrive: on which side of the road is the destination?
  const lastC = cur.geometry.coordinates;
  const n = lastC.length;
  const bearingBefore = n >= 2 ? bearingDeg(lastC[n - 2][1], lastC[n - 2][0], lastC[n - 1][1], lastC[n - 1][0]) : endBearings(g, ds[ds.length - 1].ebn).last;
  let side = 'straight';
  if (tgt.snapDistance > 1) {
    const toInput = bearingDeg(tgt.lat, tgt.lon, tgt.inputLat, tgt.inputLon);
    const rel = turnAngle(bearingBefore, toInput);
    if (Math.abs(rel) > 10 && Math.abs(rel) < 170) side = rel < 0 ? 'left' : 'right';
  }
  const arrive: OsrmStep = {
    distance: 0,
    duration: 0,
    weight: 0,
    name: cur.name,
    ...(cur.ref ? { ref: cur.ref } : {}),
    mode: 'driving',
    driving_side: 'right',
    geometry: { type: 'LineString', coordinates: [[tgt.lon, tgt.lat], [tgt.lon, tgt.lat]] },
    maneuver: { type: 'arrive', modifier: side, location: [tgt.lon, tgt.lat], bearing_before: roundB(bearingBefore), bearing_after: 0 },
    intersections: [{ location: [tgt.lon, tgt.lat], bearings: [roundB(bearingBefore + 180)], entry: [true], in: 0 }],
  };
  steps.push(arrive);

  const coords: LonLat[] = [];
  for (const d of ds) for (const p of d.coords) {
    const last = coords[coords.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) coords.push(p);
  }
  for (const s of steps) {
    s.distance = round1(s.distance);
    s.duration = round1(s.duration);
    s.weight = round1(s.weight);
    if (s.geometry.coordinates.length === 1) s.geometry.coordinates.push(s.geometry.coordinates[0]);
  }
  const distance = ds.reduce((x, d) => x + d.distance, 0);
  const durationMs = ds.reduce((x, d) => x + d.durationMs, 0);
  const weightMs = ds.reduce((x, d) => x + d.weightMs, 0);
  // summary: the two longest named roads, as OSRM does
  const byName = new Map<string, number>();
  for (const d of ds) {
    const nm = nameOf(d.ebn);
    if (nm) byName.set(nm, (byName.get(nm) ?? 0) + d.distance);
  }
  const summary = [...byName.entries()].sort((x, y) => y[1] - x[1]).slice(0, 2).map((e) => e[0]).join(', ');
  return {
    leg: { distance: round1(distance), duration: round1(durationMs / 1000), weight: round1(weightMs / 1000), summary, steps },
    coords: coords.length >= 2 ? coords : [coords[0], coords[0]],
  };
}

/** Below this length, a mere change of name followed by another maneuver is folded into the step before. */
const SHORT_NAME_CHANGE_M = 25;

/**
 * A few metres of another street between two maneuvers ("Trippstadter Straße, 12 m") are noise to a driver:
 * like OSRM's post-processing, such a 'new name' step is merged into the step before it.
 */
function collapseShortNameChanges(steps: OsrmStep[]): void {
  for (let i = steps.length - 2; i >= 1; i--) {
    const s = steps[i];
    if (s.maneuver.type !== 'new name' || s.distance >= SHORT_NAME_CHANGE_M) continue;
    const prev = steps[i - 1];
    prev.distance += s.distance;
    prev.duration += s.duration;
    prev.weight += s.weight;
    for (const p of s.geometry.coordinates.slice(1)) prev.geometry.coordinates.push(p);
    prev.intersections.push(...s.intersections);
    steps.splice(i, 1);
  }
}
