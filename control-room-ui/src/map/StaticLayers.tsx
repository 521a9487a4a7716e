import type * as GeoJSON from 'geojson';
import { useEffect } from 'react';
import type { GeoJSONSource } from 'maplibre-gl';
import { api } from '../api.ts';
import { store, get } from '../state/store.ts';
import { ensureDotIcon, ensureLabelIcon } from './icons.ts';
import { useMap } from './MapContext.tsx';

/** The service area (outline) and the hubs (rings with a label image). */
export function ServiceAreaLayer() {
  const map = useMap();
  useEffect(() => {
    if (!map) return;
    map.addSource('service-area', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
    map.addLayer({ id: 'service-area-fill', type: 'fill', source: 'service-area', paint: { 'fill-color': '#38bdf8', 'fill-opacity': 0.04 } });
    map.addLayer({ id: 'service-area-line', type: 'line', source: 'service-area', paint: { 'line-color': '#38bdf8', 'line-width': 1.5, 'line-dasharray': [4, 3], 'line-opacity': 0.7 } });
    api<GeoJSON.FeatureCollection>('GET', '/api/service-area')
      .then((fc) => (map.getSource('service-area') as GeoJSONSource | undefined)?.setData(fc))
      .catch(() => {});
    return () => {
      for (const l of ['service-area-line', 'service-area-fill']) if (map.getLayer(l)) map.removeLayer(l);
      if (map.getSource('service-area')) map.removeSource('service-area');
    };
  }, [map]);
  return null;
}

export function HubsLayer() {
  const map = useMap();
  useEffect(() => {
    if (!map) return;
    ensureDotIcon(map, 'hub', '#0b1220', '#e879f9', 9);
    map.addSource('hubs', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
    map.addLayer({ id: 'hubs', type: 'symbol', source: 'hubs', layout: { 'icon-image': 'hub', 'icon-allow-overlap': true } });
    map.addLayer({ id: 'hubs-label', type: 'symbol', source: 'hubs', layout: { 'icon-image': ['concat', 'label-hub-', ['get', 'id']], 'icon-offset': [0, -22], 'icon-allow-overlap': true } });
    api<{ id: string; name: string; lat: number; lon: number }[]>('GET', '/api/hubs')
      .then((hubs) => {
        for (const h of hubs) ensureLabelIcon(map, `hub-${h.id}`, h.name);
        (map.getSource('hubs') as GeoJSONSource | undefined)?.setData({
          type: 'FeatureCollection',
          features: hubs.map((h) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: [h.lon, h.lat] }, properties: { id: h.id, name: h.name } })),
        });
      })
      .catch(() => {});
    return () => {
      for (const l of ['hubs-label', 'hubs']) if (map.getLayer(l)) map.removeLayer(l);
      if (map.getSource('hubs')) map.removeSource('hubs');
    };
  }, [map]);
  return null;
}

/** The selected bus's planned route and its stops (pickups green, drop-offs violet, numbered by order). */
export function PlanLayer() {
  const map = useMap();
  useEffect(() => {
    if (!map) return;
    ensureDotIcon(map, 'stop-pickup', '#22c55e', '#052e16', 6);
    ensureDotIcon(map, 'stop-dropoff', '#a78bfa', '#1e1b4b', 6);
    map.addSource('plan-route', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
    map.addSource('plan-stops', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
    map.addLayer({ id: 'plan-route-casing', type: 'line', source: 'plan-route', layout: { 'line-cap': 'round', 'line-join': 'round' }, paint: { 'line-color': '#0b1220', 'line-width': 7 } });
    map.addLayer({ id: 'plan-route', type: 'line', source: 'plan-route', layout: { 'line-cap': 'round', 'line-join': 'round' }, paint: { 'line-color': '#facc15', 'line-width': 4 } });
    map.addLayer({ id: 'plan-stops', type: 'symbol', source: 'plan-stops', layout: { 'icon-image': ['concat', 'stop-', ['get', 'kind']], 'icon-allow-overlap': true } });
    const render = () => {
      const st = get();
      const p = st.selectedId && !st.replay.active ? st.plans[st.selectedId] : undefined;
      (map.getSource('plan-route') as GeoJSONSource | undefined)?.setData({
        type: 'FeatureCollection',
        features: p?.route ? [{ type: 'Feature', geometry: { type: 'LineString', coordinates: p.route.coordinates }, properties: {} }] : [],
      });
      (map.getSource('plan-stops') as GeoJSONSource | undefined)?.setData({
        type: 'FeatureCollection',
        features: (p?.stops ?? []).map((s, i) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: [s.lon, s.lat] }, properties: { kind: s.kind, order: i + 1 } })),
      });
    };
    const un = store.subscribe((s, prev) => {
      if (s.selectedId !== prev.selectedId || s.plans !== prev.plans || s.replay.active !== prev.replay.active) render();
    });
    render();
    return () => {
      un();
      for (const l of ['plan-stops', 'plan-route', 'plan-route-casing']) if (map.getLayer(l)) map.removeLayer(l);
      for (const s of ['plan-route', 'plan-stops']) if (map.getSource(s)) map.removeSource(s);
    };
  }, [map]);
  return null;
}

/** Open requests: offered or confirmed bookings not yet picked up, at their pickup place. */
export function RequestsLayer() {
  const map = useMap();
  useEffect(() => {
    if (!map) return;
    ensureDotIcon(map, 'request', '#f472b6', '#500724', 4);
    map.addSource('requests', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
    map.addLayer({ id: 'requests', type: 'symbol', source: 'requests', layout: { 'icon-image': 'request', 'icon-allow-overlap': true } });
    const render = () => {
      const st = get();
      const features = st.replay.active
        ? []
        : Object.values(st.bookings)
            .filter((b) => b.status === 'offered' || b.status === 'confirmed' || b.status === 'assigned')
            .map((b) => ({ type: 'Feature' as const, geometry: { type: 'Point' as const, coordinates: [b.pickup.lon, b.pickup.lat] }, properties: { id: b.id, status: b.status } }));
      (map.getSource('requests') as GeoJSONSource | undefined)?.setData({ type: 'FeatureCollection', features });
    };
    const un = store.subscribe((s, prev) => {
      if (s.bookings !== prev.bookings || s.replay.active !== prev.replay.active) render();
    });
    render();
    return () => {
      un();
      if (map.getLayer('requests')) map.removeLayer('requests');
      if (map.getSource('requests')) map.removeSource('requests');
    };
  }, [map]);
  return null;
}
