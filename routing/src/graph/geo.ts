import turfBearing from '@turf/bearing';
import turfDistance from '@turf/distance';

/** Geodesy goes through turf (haversine, initial bearing); these wrappers only fix the argument order and units. */
export function distanceM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  return turfDistance([lon1, lat1], [lon2, lat2], { units: 'meters' });
}

/** Initial bearing 0..360 (north = 0, clockwise). */
export function bearingDeg(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const b = turfBearing([lon1, lat1], [lon2, lat2]);
  return b < 0 ? b + 360 : b;
}

/** Signed turn angle from bearing `inB` to bearing `outB` in (-180, 180]: negative = left, positive = right. */
export function turnAngle(inB: number, outB: number): number {
  let a = outB - inB;
  while (a > 180) a -= 360;
  while (a <= -180) a += 360;
  return a;
}
