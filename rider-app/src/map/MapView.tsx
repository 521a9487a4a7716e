import { useEffect, useRef, useState } from 'react';
import * as maplibregl from 'maplibre-gl';
import type { GeoJSONSource } from 'maplibre-gl';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import 'maplibre-gl/dist/maplibre-gl.css';
import { api } from '../api.ts';
import { ringBbox, type LatLon } from '../geo.ts';
import { useStore } from '../store.ts';
import type { Basemap } from '../types.ts';
import { useT } from '../ui.tsx';
import { baseStyle } from './style.ts';

// MapLibre's worker is its own file, emitted by Vite next to the bundle (CSP: worker-src 'self')
maplibregl.setWorkerUrl(workerUrl);

export interface MapMarker {
  id: string;
  kind: 'pickup' | 'dropoff' | 'bus' | 'hub' | 'me';
  lat: number;
  lon: number;
  /** short visible text on the marker (the hub's name, the bus's label) */
  text?: string;
  heading?: number;
}

let basemapPromise: Promise<Basemap> | null = null;
function loadBasemap(bbox: [number, number, number, number]): Promise<Basemap> {
  basemapPromise ??= api.basemap(bbox).catch((e) => {
    basemapPromise = null;
    throw e;
  });
  return basemapPromise;
}

function webglAvailable(): boolean {
  try {
    const c = document.createElement('canvas');
    return !!(c.getContext('webgl2') ?? c.getContext('webgl'));
  } catch {
    return false;
  }
}

const BUS_SVG =
  '<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false"><path fill="currentColor" d="M4 16c0 .88.39 1.67 1 2.22V20a1 1 0 0 0 1 1h1a1 1 0 0 0 1-1v-1h8v1a1 1 0 0 0 1 1h1a1 1 0 0 0 1-1v-1.78c.61-.55 1-1.34 1-2.22V6c0-3.5-3.58-4-8-4S4 2.5 4 6v10zm3.5 1A1.5 1.5 0 1 1 9 15.5 1.5 1.5 0 0 1 7.5 17zm9 0a1.5 1.5 0 1 1 1.5-1.5 1.5 1.5 0 0 1-1.5 1.5zM18 11H6V6h12v5z"/></svg>';

function markerElement(m: MapMarker, t: ReturnType<typeof useT>): HTMLElement {
  const el = document.createElement('div');
  el.className = `marker marker-${m.kind}`;
  el.setAttribute('aria-hidden', 'true'); // the same facts are written in the page for screen readers
  el.dataset.marker = m.kind;
  const label = m.kind === 'pickup' ? t('marker.pickup') : m.kind === 'dropoff' ? t('marker.dropoff') : m.kind === 'bus' ? (m.text ?? t('marker.bus')) : (m.text ?? '');
  if (m.kind === 'bus') el.innerHTML = `${BUS_SVG}<span class="marker-text"></span>`;
  else el.innerHTML = '<span class="marker-dot"></span><span class="marker-text"></span>';
  el.querySelector('.marker-text')!.textContent = label;
  return el;
}

/**
 * The offline map: base map from the server's GeoJSON, the service area, and HTML markers (their text needs no
 * map glyphs). With `onPick`, a tap chooses a place. Without WebGL it says so and the rest of the app still works.
 */
export function MapView(props: { label: string; markers: MapMarker[]; onPick?: (p: LatLon) => void; fitTo?: LatLon[]; fitKey?: string; className?: string }) {
  const t = useT();
  const area = useStore((s) => s.area);
  const container = useRef<HTMLDivElement>(null);
  const mapRef = useRef<maplibregl.Map | null>(null);
  const markers = useRef(new Map<string, { m: maplibregl.Marker; key: string }>());
  const onPick = useRef(props.onPick);
  onPick.current = props.onPick;
  const [failed, setFailed] = useState(false);
  const [ready, setReady] = useState(false);

  // create once per mount
  useEffect(() => {
    if (!container.current || !area) return;
    if (!webglAvailable()) {
      setFailed(true);
      return;
    }
    const ring = area.features[0]?.geometry.coordinates[0] ?? [];
    const [w, s, e, n] = ringBbox(ring, 0.004);
    let map: maplibregl.Map;
    try {
      map = new maplibregl.Map({
        container: container.current,
        style: baseStyle(),
        bounds: [w, s, e, n],
        fitBoundsOptions: { padding: 8 },
        maxBounds: [w - 0.05, s - 0.03, e + 0.05, n + 0.03],
        attributionControl: false,
        dragRotate: false,
        pitchWithRotate: false,
        touchPitch: false,
        keyboard: false,
      });
    } catch {
      setFailed(true);
      return;
    }
    mapRef.current = map;
    map.touchZoomRotate.disableRotation();
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
    map.addControl(new maplibregl.AttributionControl({ compact: false, customAttribution: t('map.attribution') }), 'bottom-right');
    map.getCanvas().tabIndex = -1; // keyboard users choose places with the search and the lists
    map.on('click', (ev: maplibregl.MapMouseEvent) => onPick.current?.({ lat: ev.lngLat.lat, lon: ev.lngLat.lng }));
    map.on('load', () => {
      (map.getSource('area') as GeoJSONSource).setData(area as unknown as Parameters<GeoJSONSource['setData']>[0]);
      setReady(true);
      loadBasemap([w, s, e, n])
        .then((b) => {
          if (mapRef.current !== map) return;
          for (const k of ['roads', 'buildings', 'water', 'green', 'rail'] as const) (map.getSource(k) as GeoJSONSource).setData(b.layers[k] as unknown as Parameters<GeoJSONSource['setData']>[0]);
        })
        .catch(() => undefined); // the service area, markers and controls still show
    });
    const stash = markers.current;
    return () => {
      mapRef.current = null;
      stash.clear();
      map.remove();
    };
    // the map is created once per mount; markers and fitting follow in their own effects
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [area]);

  // markers follow the props
  useEffect(() => {
    const map = mapRef.current;
    if (!map) return;
    const seen = new Set<string>();
    for (const m of props.markers) {
      seen.add(m.id);
      const key = `${m.kind}|${m.text ?? ''}`;
      let entry = markers.current.get(m.id);
      if (entry && entry.key !== key) {
        entry.m.remove();
        entry = undefined;
      }
      if (!entry) {
        const el = markerElement(m, t);
        entry = { m: new maplibregl.Marker({ element: el, anchor: m.kind === 'pickup' || m.kind === 'dropoff' || m.kind === 'me' ? 'bottom' : 'center' }), key };
        entry.m.setLngLat([m.lon, m.lat]).addTo(map);
        markers.current.set(m.id, entry);
      } else entry.m.setLngLat([m.lon, m.lat]);
      const el = entry.m.getElement();
      el.dataset.lat = m.lat.toFixed(6);
      el.dataset.lon = m.lon.toFixed(6);
    }
    for (const [id, e] of markers.current) {
      if (!seen.has(id)) {
        e.m.remove();
        markers.current.delete(id);
      }
    }
  }, [props.markers, ready, t]);

  // fit the view to the points when their set changes (not on every bus movement)
  useEffect(() => {
    const map = mapRef.current;
    const pts = props.fitTo ?? [];
    if (!map || !pts.length) return;
    if (pts.length === 1) {
      map.easeTo({ center: [pts[0].lon, pts[0].lat], zoom: Math.max(map.getZoom(), 15.5), duration: 400 });
      return;
    }
    const b = new maplibregl.LngLatBounds();
    for (const p of pts) b.extend([p.lon, p.lat]);
    map.fitBounds(b, { padding: 48, maxZoom: 16.5, duration: 400 });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.fitKey, ready]);

  return (
    <div className={`map-wrap ${props.className ?? ''}`}>
      {failed ? (
        <p className="map-failed">{t('map.unavailable')}</p>
      ) : (
        <div ref={container} className="map" role="region" aria-label={props.label} />
      )}
    </div>
  );
}
