/**
 * Car profile for the road graph: which OSM ways a bus may drive, how fast, in which direction.
 * Pure functions over tag maps, so every rule is unit-tested with hand-written tags.
 *
 * Speeds (km/h) used where a way has no usable `maxspeed` tag. They are typical driving speeds in a German
 * town, not legal limits, in the spirit of OSRM's car.lua. A posted `maxspeed` is scaled by
 * POSTED_SPEED_FACTOR (as OSRM's `speed_reduction`), because traffic rarely drives at the limit, and every speed is
 * capped at the minibus's own top speed (VEHICLE_MAX_SPEED_KMH).
 */
export type Tags = Readonly<Record<string, string>>;

export const DEFAULT_SPEED_KMH: Readonly<Record<string, number>> = {
  motorway: 100,
  motorway_link: 50,
  trunk: 80,
  trunk_link: 45,
  primary: 50,
  primary_link: 40,
  secondary: 45,
  secondary_link: 35,
  tertiary: 40,
  tertiary_link: 30,
  unclassified: 30,
  residential: 25,
  living_street: 7,
  service: 15,
  road: 20,
};

/** Share of the posted limit that traffic actually drives (OSRM car.lua uses 0.8). */
export const POSTED_SPEED_FACTOR = 0.8;
/** The minibus is limited electronically; no edge is faster than this. */
export const VEHICLE_MAX_SPEED_KMH = 80;
/** Roads where motor vehicles may go only to reach a destination are allowed but cost this factor more. */
export const DESTINATION_PENALTY_FACTOR = 3;

/** Service sub-types a bus never uses (parking aisles, private drive-throughs). */
const EXCLUDED_SERVICE = new Set(['parking_aisle', 'drive-through', 'emergency_access']);
const DENY = new Set(['no', 'private', 'agricultural', 'forestry', 'official', 'restricted', 'military', 'emergency', 'discouraged']);
const DESTINATION = new Set(['destination', 'customers', 'delivery']);
const ALLOW = new Set(['yes', 'designated', 'permissive', 'public']);

export type Access = 'yes' | 'destination' | 'no';

/**
 * Access for a motor vehicle, most specific key first (motorcar > motor_vehicle > vehicle > access), as in OSRM.
 * A more specific `yes` overrides a general `no` (e.g. access=no + motorcar=yes).
 */
export function carAccess(tags: Tags): Access {
  for (const key of ['motorcar', 'motor_vehicle', 'vehicle', 'access']) {
    const v = tags[key];
    if (v === undefined) continue;
    const value = v.split(';')[0].trim();
    if (DENY.has(value)) return 'no';
    if (DESTINATION.has(value)) return 'destination';
    if (ALLOW.has(value)) return 'yes';
  }
  return 'yes';
}

/** Highway class if the way is drivable by car, else null. */
export function drivableClass(tags: Tags): string | null {
  const hw = tags.highway;
  if (!hw || !(hw in DEFAULT_SPEED_KMH)) return null;
  if (tags.area === 'yes') return null;
  if (hw === 'service' && tags.service && EXCLUDED_SERVICE.has(tags.service)) return null;
  if (tags.impassable === 'yes' || tags.status === 'impassable') return null;
  if (carAccess(tags) === 'no') return null;
  return hw;
}

/**
 * Parses `maxspeed` to km/h: numbers, "50 km/h", "30 mph", `DE:urban`, `DE:rural`, `DE:motorway`,
 * `DE:living_street`, `walk`, `none`. Returns null for values that carry no number we can use (e.g. `signals`).
 */
export function parseMaxspeed(value: string | undefined): number | null {
  if (value === undefined) return null;
  const v = value.split(';')[0].trim().toLowerCase();
  const zones: Record<string, number> = {
    'de:urban': 50,
    'de:rural': 100,
    'de:motorway': 130,
    'de:living_street': 7,
    'de:walk': 7,
    'de:zone30': 30,
    'de:zone:30': 30,
    'de:zone20': 20,
    walk: 7,
    none: 130,
  };
  if (v in zones) return zones[v];
  const m = /^(\d+(?:\.\d+)?)\s*(km\/h|kmh|kph|mph|knots)?$/.exec(v);
  if (!m) return null;
  const n = Number(m[1]);
  if (!(n > 0)) return null;
  if (m[2] === 'mph') return n * 1.609344;
  if (m[2] === 'knots') return n * 1.852;
  return n;
}

/** Driving speed in km/h for one direction of a way (`maxspeed:forward`/`:backward` win over `maxspeed`). */
export function wayspeedKmh(tags: Tags, hwClass: string, direction: 'forward' | 'backward'): number {
  const posted = parseMaxspeed(tags[`maxspeed:${direction}`]) ?? parseMaxspeed(tags.maxspeed);
  const base = DEFAULT_SPEED_KMH[hwClass] ?? 20;
  const speed = posted === null ? base : posted * POSTED_SPEED_FACTOR;
  return Math.min(speed, VEHICLE_MAX_SPEED_KMH);
}

export type Oneway = 'no' | 'forward' | 'backward';

/** `oneway=yes|1|true|-1|reverse|no`; implied on roundabouts and motorways (and their links). */
export function onewayOf(tags: Tags, hwClass: string): Oneway {
  const v = tags.oneway;
  if (v === 'yes' || v === '1' || v === 'true') return 'forward';
  if (v === '-1' || v === 'reverse') return 'backward';
  if (v === 'no' || v === '0' || v === 'false') return 'no';
  if (tags.junction === 'roundabout' || tags.junction === 'circular') return 'forward';
  if (hwClass === 'motorway' || hwClass === 'motorway_link') return 'forward';
  return 'no';
}

export function isRoundabout(tags: Tags): boolean {
  return tags.junction === 'roundabout' || tags.junction === 'circular';
}

/** Turn cost model (seconds), after OSRM's car profile: a sigmoid in the turn angle, left turns dearer (right-hand traffic). */
export const TURN_PENALTY_S = 7.5;
export const TURN_BIAS = 1.075;
export const U_TURN_PENALTY_S = 20;
export const TRAFFIC_SIGNAL_PENALTY_S = 2;

/** @param angle turn angle in degrees, -180..180, negative = left, 0 = straight. */
export function turnPenaltySeconds(angle: number): number {
  const a = Math.abs(angle);
  if (a >= 170) return U_TURN_PENALTY_S + TURN_PENALTY_S;
  const bias = angle < 0 ? TURN_BIAS : 1 / TURN_BIAS; // left (negative) dearer
  // logistic curve: ~0 for straight on, ~TURN_PENALTY_S * bias for a 90° turn and more
  return (TURN_PENALTY_S * bias) / (1 + Math.exp(-((13 / 180) * a * (angle < 0 ? bias : 1 / bias) - 6.5)));
}
