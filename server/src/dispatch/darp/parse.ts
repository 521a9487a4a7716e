/**
 * Reader for the Cordeau (2006) dial-a-ride benchmark text format.
 *
 *   header:  m 2n T Q L        (vehicles, nodes, max route duration, capacity, max ride time)
 *   rows:    id x y d q e l    (service duration d, load q, time window [e, l])
 *
 * Node 0 is the depot, 1..n pickups, n+1..2n drop-offs (drop-off of request i is n+i). Some files add an
 * end-depot row with id 2n+1. The reader only checks the shape of the data; it does not tighten anything.
 */

export class DarpInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DarpInputError';
  }
}

export interface RawNode {
  id: number;
  x: number;
  y: number;
  service: number;
  load: number;
  e: number;
  l: number;
}

export interface RawInstance {
  name: string;
  vehicles: number;
  /** Number of requests n (the header carries 2n). */
  requests: number;
  maxRouteDuration: number;
  capacity: number;
  maxRideTime: number;
  /** Rows 0..2n (depot, pickups, drop-offs), indexed by id. */
  nodes: RawNode[];
  /** The optional end-depot row (id 2n+1), if the file has one. */
  endDepot?: RawNode;
}

function num(tok: string, where: string): number {
  const v = Number(tok);
  if (tok === '' || !Number.isFinite(v)) throw new DarpInputError(`${where}: "${tok}" is not a number`);
  return v;
}

export function parseCordeau(text: string, name = 'instance'): RawInstance {
  const lines = text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (lines.length === 0) throw new DarpInputError(`${name}: empty file`);
  const head = lines[0].split(/\s+/);
  if (head.length < 5) throw new DarpInputError(`${name}: header needs "m 2n T Q L", got "${lines[0]}"`);
  const [vehicles, nodes2n, T, Q, L] = head.slice(0, 5).map((t, i) => num(t, `${name} header field ${i + 1}`));
  if (!Number.isInteger(vehicles) || vehicles < 1) throw new DarpInputError(`${name}: vehicle count must be a positive integer`);
  if (!Number.isInteger(nodes2n) || nodes2n < 2 || nodes2n % 2 !== 0)
    throw new DarpInputError(`${name}: node count 2n must be a positive even integer, got ${nodes2n}`);
  if (!(T > 0) || !(Q > 0) || !(L > 0)) throw new DarpInputError(`${name}: T, Q and L must be positive`);
  const n = nodes2n / 2;

  const rows: RawNode[] = [];
  for (let li = 1; li < lines.length; li++) {
    const tok = lines[li].split(/\s+/);
    const where = `${name} line ${li + 1}`;
    if (tok.length < 7) throw new DarpInputError(`${where}: expected "id x y service load e l", got "${lines[li]}"`);
    const [id, x, y, service, load, e, l] = tok.slice(0, 7).map((t) => num(t, where));
    if (!Number.isInteger(id)) throw new DarpInputError(`${where}: node id ${id} is not an integer`);
    if (service < 0) throw new DarpInputError(`${where}: negative service time`);
    if (e > l) throw new DarpInputError(`${where}: time window [${e}, ${l}] is empty`);
    rows.push({ id, x, y, service, load, e, l });
  }
  const expected = 2 * n + 1;
  if (rows.length !== expected && rows.length !== expected + 1)
    throw new DarpInputError(`${name}: expected ${expected} node rows (or ${expected + 1} with an end depot), got ${rows.length}`);
  rows.forEach((r, i) => {
    if (r.id !== i) throw new DarpInputError(`${name}: row ${i + 1} has id ${r.id}, expected ${i}`);
  });
  for (let i = 1; i <= n; i++) {
    const p = rows[i], d = rows[n + i];
    if (!(p.load > 0)) throw new DarpInputError(`${name}: pickup ${i} must have a positive load`);
    if (d.load !== -p.load) throw new DarpInputError(`${name}: drop-off ${n + i} load ${d.load} does not cancel pickup load ${p.load}`);
    if (p.load > Q) throw new DarpInputError(`${name}: request ${i} load ${p.load} exceeds capacity ${Q}`);
  }
  if (rows[0].load !== 0) throw new DarpInputError(`${name}: depot load must be 0`);
  const endDepot = rows.length === expected + 1 ? rows.pop() : undefined;
  if (endDepot && endDepot.load !== 0) throw new DarpInputError(`${name}: end depot load must be 0`);
  return { name, vehicles, requests: n, maxRouteDuration: T, capacity: Q, maxRideTime: L, nodes: rows, endDepot };
}
