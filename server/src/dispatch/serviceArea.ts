import type { ServiceArea } from './config.ts';

/**
 * Point-in-polygon by ray casting (holes respected). Hand-written because the server workspace does not depend
 * on @turf (only routing does); swap in @turf/boolean-point-in-polygon once it is a server dependency.
 */
export function inServiceArea(area: ServiceArea | undefined, lat: number, lon: number): boolean {
  if (!area) return true;
  const polys = area.type === 'Polygon' ? [area.coordinates] : area.coordinates;
  return polys.some((rings) => {
    if (rings.length === 0 || !inRing(rings[0], lon, lat)) return false;
    for (let h = 1; h < rings.length; h++) if (inRing(rings[h], lon, lat)) return false;
    return true;
  });
}

function inRing(ring: ReadonlyArray<readonly [number, number]>, x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
