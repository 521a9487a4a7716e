import { useEffect } from 'react';
import { useMap } from './MapContext.tsx';

/** Roads by class, buildings, water, green areas and rail from `/api/map/basemap`, styled for a dark room. */
/**
 * One URL per layer: MapLibre's worker fetches and parses it, so the page's main thread never holds the
 * megabytes of GeoJSON (parsing them there froze the console for seconds, long enough to lapse a lease).
 * No bbox: the server's default view (service area + margin), prepared at its start and shared by all clients.
 */
const layerUrl = (id: string) => new URL(`/api/map/basemap?layer=${id}`, window.location.href).href;

const ROAD_WIDTH: Record<string, number> = { motorway: 5, trunk: 4.5, primary: 4, secondary: 3.5, tertiary: 3, residential: 2, unclassified: 2, living_street: 1.5, service: 1, footway: 0.6, path: 0.6, cycleway: 0.6, steps: 0.6, pedestrian: 1 };

export function BasemapLayer() {
  const map = useMap();
  useEffect(() => {
    if (!map) return;
    for (const id of ['green', 'water', 'buildings', 'rail', 'roads']) {
      if (!map.getSource(`base-${id}`)) map.addSource(`base-${id}`, { type: 'geojson', data: layerUrl(id) });
    }
    const before = map.getStyle().layers.find((l) => !['background'].includes(l.id) && !l.id.startsWith('base-'))?.id;
    const add = (layer: Parameters<typeof map.addLayer>[0]) => {
      if (!map.getLayer(layer.id)) map.addLayer(layer, before);
    };
    add({ id: 'base-green', type: 'fill', source: 'base-green', paint: { 'fill-color': '#10261d', 'fill-opacity': 0.9 } });
    add({ id: 'base-water', type: 'fill', source: 'base-water', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': '#0d2b45' } });
    add({ id: 'base-waterway', type: 'line', source: 'base-water', filter: ['==', ['geometry-type'], 'LineString'], paint: { 'line-color': '#0f3a5c', 'line-width': 1.5 } });
    add({ id: 'base-buildings', type: 'fill', source: 'base-buildings', minzoom: 13, paint: { 'fill-color': '#1a2333', 'fill-outline-color': '#243047' } });
    add({ id: 'base-rail', type: 'line', source: 'base-rail', paint: { 'line-color': '#4b5563', 'line-width': 1.2, 'line-dasharray': [3, 2] } });
    add({
      id: 'base-roads',
      type: 'line',
      source: 'base-roads',
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: {
        'line-color': ['match', ['get', 'class'], ['motorway', 'trunk', 'primary'], '#64748b', ['secondary', 'tertiary'], '#4b5a70', ['footway', 'path', 'cycleway', 'steps', 'pedestrian'], '#283446', '#3a475a'],
        'line-width': ['interpolate', ['linear'], ['zoom'], 12, ['*', 0.5, ['coalesce', ['get', ['get', 'class'], ['literal', ROAD_WIDTH]], 1]], 17, ['*', 2.5, ['coalesce', ['get', ['get', 'class'], ['literal', ROAD_WIDTH]], 1]]],
      },
    });
  }, [map]);
  return null;
}
