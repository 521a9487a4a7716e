import { z } from 'zod';
import type { RawInstance } from './parse.ts';

/**
 * Independent feasibility checker for published DARP solutions. Deliberately shares no code with the solver
 * (it reads the raw file data, not the tightened instance, and re-derives everything from the written times):
 * a bug in the solver's evaluator cannot hide a violation here.
 */
const TOL = 1e-6;

const solutionSchema = z.object({
  instance: z.string(),
  cost: z.number(),
  routes: z.array(
    z.object({
      vehicle: z.number().int(),
      depart: z.number(),
      return: z.number(),
      stops: z.array(z.object({ node: z.number().int(), time: z.number() })),
    }),
  ),
});

export interface CheckReport {
  feasible: boolean;
  /** Total distance recomputed from the routes. */
  cost: number;
  violations: string[];
}

export function checkSolution(raw: RawInstance, solution: unknown): CheckReport {
  const violations: string[] = [];
  const parsed = solutionSchema.safeParse(solution);
  if (!parsed.success) return { feasible: false, cost: NaN, violations: [`malformed solution: ${parsed.error.message}`] };
  const sol = parsed.data;
  const n = raw.requests;
  const T = raw.maxRouteDuration, Q = raw.capacity, L = raw.maxRideTime;
  const depot = raw.nodes[0];
  const endDepot = raw.endDepot ?? depot;
  const node = (id: number) => raw.nodes[id];
  const travel = (a: { x: number; y: number }, b: { x: number; y: number }) => Math.hypot(a.x - b.x, a.y - b.y);

  const servedBy = new Map<number, { vehicle: number; index: number; time: number }>();
  const vehicles = new Set<number>();
  let cost = 0;

  for (const route of sol.routes) {
    const v = route.vehicle;
    const tag = `vehicle ${v}`;
    if (v < 0 || v >= raw.vehicles) violations.push(`${tag}: no such vehicle (fleet has ${raw.vehicles})`);
    if (vehicles.has(v)) violations.push(`${tag}: used by more than one route`);
    vehicles.add(v);
    if (route.depart < Math.max(0, depot.e) - TOL) violations.push(`${tag}: departs at ${route.depart}, before the depot opens`);

    let prev: { x: number; y: number; service: number } = { ...depot, service: 0 };
    let prevTime = route.depart;
    let load = 0;
    route.stops.forEach((stop, index) => {
      const id = stop.node;
      if (!Number.isInteger(id) || id < 1 || id > 2 * n) {
        violations.push(`${tag}: stop ${index} has unknown node ${id}`);
        return;
      }
      const nd = node(id);
      const d = travel(prev, nd);
      cost += d;
      const arrival = prevTime + prev.service + d;
      if (stop.time < arrival - TOL) violations.push(`${tag}: node ${id} served at ${stop.time}, but cannot arrive before ${arrival}`);
      if (stop.time < nd.e - TOL) violations.push(`${tag}: node ${id} served at ${stop.time}, before its window opens at ${nd.e}`);
      if (stop.time > nd.l + TOL) violations.push(`${tag}: node ${id} served at ${stop.time}, after its window closes at ${nd.l}`);
      load += nd.load;
      if (load > Q + TOL) violations.push(`${tag}: load ${load} after node ${id} exceeds capacity ${Q}`);
      if (load < -TOL) violations.push(`${tag}: negative load after node ${id}`);
      if (servedBy.has(id)) violations.push(`node ${id} is served more than once`);
      servedBy.set(id, { vehicle: v, index, time: stop.time });
      prev = nd;
      prevTime = stop.time;
    });
    const dBack = travel(prev, endDepot);
    cost += dBack;
    const back = prevTime + prev.service + dBack;
    if (route.return < back - TOL) violations.push(`${tag}: returns at ${route.return}, but cannot be back before ${back}`);
    if (route.return > T + TOL) violations.push(`${tag}: returns at ${route.return}, after the depot closes at ${T}`);
    if (route.return - route.depart > T + TOL)
      violations.push(`${tag}: route duration ${route.return - route.depart} exceeds ${T}`);
    if (Math.abs(load) > TOL) violations.push(`${tag}: ends with ${load} passengers on board`);
  }

  for (let i = 1; i <= n; i++) {
    const p = servedBy.get(i), d = servedBy.get(n + i);
    if (!p || !d) {
      violations.push(`request ${i} is not served (pickup ${p ? 'done' : 'missing'}, drop-off ${d ? 'done' : 'missing'})`);
      continue;
    }
    if (p.vehicle !== d.vehicle) violations.push(`request ${i}: picked up by vehicle ${p.vehicle} but dropped by ${d.vehicle}`);
    else if (d.index < p.index) violations.push(`request ${i}: drop-off before pickup`);
    const ride = d.time - (p.time + node(i).service);
    if (ride > L + TOL) violations.push(`request ${i}: ride time ${ride} exceeds ${L}`);
  }
  if (Math.abs(cost - sol.cost) > TOL) violations.push(`reported cost ${sol.cost} differs from recomputed ${cost}`);
  if (sol.instance !== raw.name) violations.push(`solution is for "${sol.instance}", instance is "${raw.name}"`);
  return { feasible: violations.length === 0, cost, violations };
}
