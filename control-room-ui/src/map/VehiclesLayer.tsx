import type * as GeoJSON from 'geojson';
import { useEffect } from 'react';
import type { GeoJSONSource, MapLayerMouseEvent } from 'maplibre-gl';
import { fleet } from '../state/fleet.ts';
import { get, set, store } from '../state/store.ts';
import { ensureArrowIcons, ensureLabelIcon } from './icons.ts';
import { useMap } from './MapContext.tsx';

/**
 * Buses as heading arrows coloured by mode, with a label. Live data comes from the fleet buffer (per-vehicle
 * merge, one update per animation frame); in replay the same layer is fed by the replay frames (simulated time).
 */
type Feature = GeoJSON.Feature<GeoJSON.Point, { id: string; label: string; mode: string; heading: number; selected: boolean }>;

export function VehiclesLayer() {
  const map = useMap();
  useEffect(() => {
    if (!map) return;
    ensureArrowIcons(map);
    map.addSource('vehicles', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
    map.addLayer({
      id: 'vehicles-arrow',
      type: 'symbol',
      source: 'vehicles',
      layout: {
        'icon-image': ['concat', 'arrow-', ['get', 'mode']],
        'icon-rotate': ['get', 'heading'],
        'icon-rotation-alignment': 'map',
        'icon-allow-overlap': true,
        'icon-ignore-placement': true,
        'icon-size': ['case', ['get', 'selected'], 1.3, 1],
      },
    });
    map.addLayer({
      id: 'vehicles-label',
      type: 'symbol',
      source: 'vehicles',
      layout: { 'icon-image': ['concat', 'label-', ['get', 'id']], 'icon-offset': [0, 24], 'icon-allow-overlap': true, 'icon-ignore-placement': true },
    });
    const onClick = (e: MapLayerMouseEvent) => {
      const id = e.features?.[0]?.properties?.id as string | undefined;
      if (id) set({ selectedId: id });
    };
    map.on('click', 'vehicles-arrow', onClick);
    map.on('mouseenter', 'vehicles-arrow', () => (map.getCanvas().style.cursor = 'pointer'));
    map.on('mouseleave', 'vehicles-arrow', () => (map.getCanvas().style.cursor = ''));

    const render = () => {
      const st = get();
      const features: Feature[] = [];
      if (st.replay.active) {
        for (const v of st.replay.frame?.vehicles ?? []) {
          ensureLabelIcon(map, v.id, v.id);
          features.push({ type: 'Feature', geometry: { type: 'Point', coordinates: [v.lon, v.lat] }, properties: { id: v.id, label: v.id, mode: v.mode, heading: v.heading, selected: v.id === st.selectedId } });
        }
      } else {
        for (const v of fleet.vehicles.values()) {
          ensureLabelIcon(map, v.id, v.label);
          features.push({ type: 'Feature', geometry: { type: 'Point', coordinates: [v.lon, v.lat] }, properties: { id: v.id, label: v.label, mode: v.mode, heading: v.heading, selected: v.id === st.selectedId } });
        }
      }
      (map.getSource('vehicles') as GeoJSONSource | undefined)?.setData({ type: 'FeatureCollection', features });
      const sel = features.find((f) => f.properties.selected);
      if (sel && st.follow) map.easeTo({ center: sel.geometry.coordinates as [number, number], duration: 90 });
    };
    const unFleet = fleet.subscribe(render);
    const unStore = store.subscribe((s, p) => {
      if (s.replay.frame !== p.replay.frame || s.replay.active !== p.replay.active || s.selectedId !== p.selectedId) render();
    });
    render();
    return () => {
      unFleet();
      unStore();
      map.off('click', 'vehicles-arrow', onClick);
      for (const l of ['vehicles-label', 'vehicles-arrow']) if (map.getLayer(l)) map.removeLayer(l);
      if (map.getSource('vehicles')) map.removeSource('vehicles');
    };
  }, [map]);
  return null;
}
