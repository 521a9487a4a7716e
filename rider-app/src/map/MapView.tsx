import { useEffect, useRef, useState } from 'react';
import * as maplibregl from 'maplibre-gl';
import type { GeoJSONSource } from 'maplibre-gl';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import 'maplibre-gl/dist/maplibre-gl.css';
import { api } from '../api.ts';
import { ringBbox, type LatLon } from '../geo.ts';
import { useStore } from '../store.ts';
import type { ServiceArea } from '../types.ts';
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

function webglAvailable(): boolean {
  try {
    const c = document.createElement('canvas');
    return !!(c.getContext('webgl2') ?? c.getContext('webgl'));
  } catch {
    return false;
  }
}

type SetData = Parameters<GeoJSONSource['setData']>[0];
/** room around fitted points for the markers' labels (the bus label is about 90 px wide) */
const FIT_PADDING = { top: 56, bottom: 40, left: 72, right: 96 };

/**
 * One map for the whole app: the booking and the trip screen show it in turn. Building a map means sending
 * 2.6 MB of base-map GeoJSON to MapLibre's worker to be indexed, which takes a phone seconds of CPU and
 * battery; so the map is made once and its element moves between the screens.
 */
interface Shared {
  map: maplibregl.Map;
  el: HTMLDivElement;
  bounds: [number, number, number, number];
  attribution: maplibregl.AttributionControl | null;
  onPick: ((p: LatLon) => void) | null;
}
let shared: Shared | null | 'failed' = null;

function sharedMap(area: ServiceArea, attribution: string): Shared | null {
  if (shared === 'failed') return null;
  if (shared) return shared;
  if (!webglAvailable()) {
    shared = 'failed';
    return null;
  }
  const el = document.createElement('div');
  el.className = 'map';
  el.setAttribute('role', 'region');
  // the element must be in the document while MapLibre measures it; it is moved into its screen right after
  el.style.cssText = 'position:absolute;left:-10000px;top:0;width:360px;height:300px';
  document.body.appendChild(el);
  const ring = area.features[0]?.geometry.coordinates[0] ?? [];
  const bounds = ringBbox(ring, 0.004);
  const [w, s, e, n] = bounds;
  let map: maplibregl.Map;
  try {
    map = new maplibregl.Map({
      container: el,
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
    el.remove();
    shared = 'failed';
    return null;
  }
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.getCanvas().tabIndex = -1; // keyboard users choose places with the search and the lists
  const s0: Shared = { map, el, bounds, attribution: null, onPick: null };
  map.on('load', () => {
    (map.getSource('area') as GeoJSONSource).setData(area as unknown as SetData);
    // each layer by URL: MapLibre's worker fetches and parses it, the page's main thread never holds the
    // megabytes of GeoJSON; the server's default view (service area + margin) is shared by every client
    for (const k of ['roads', 'buildings', 'water', 'green', 'rail'] as const) (map.getSource(k) as GeoJSONSource).setData(api.basemapLayerUrl(k));
  });
  map.on('click', (ev: maplibregl.MapMouseEvent) => s0.onPick?.({ lat: ev.lngLat.lat, lon: ev.lngLat.lng }));
  setAttribution(s0, attribution);
  shared = s0;
  return s0;
}

function setAttribution(s: Shared, text: string): void {
  if (s.attribution) s.map.removeControl(s.attribution);
  s.attribution = new maplibregl.AttributionControl({ compact: false, customAttribution: text });
  s.map.addControl(s.attribution, 'bottom-right');
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
export function MapView(props: {
  label: string;
  markers: MapMarker[];
  onPick?: (p: LatLon) => void;
  fitTo?: LatLon[];
  fitKey?: string;
  /** re-fit to `fitTo` when a point of it drifts out of view (the moving bus) */
  follow?: boolean;
  className?: string;
}) {
  const t = useT();
  const area = useStore((s) => s.area);
  const holder = useRef<HTMLDivElement>(null);
  const markers = useRef(new Map<string, { m: maplibregl.Marker; key: string }>());
  const [map, setMap] = useState<Shared | null>(null);
  const [failed, setFailed] = useState(false);
  const onPick = useRef(props.onPick);
  onPick.current = props.onPick;

  // borrow the shared map while this screen is shown
  useEffect(() => {
    if (!holder.current || !area) return;
    const s = sharedMap(area, t('map.attribution'));
    if (!s) {
      setFailed(true);
      return;
    }
    s.el.style.cssText = '';
    holder.current.appendChild(s.el);
    s.map.resize();
    s.onPick = (p) => onPick.current?.(p);
    setMap(s);
    const own = markers.current;
    return () => {
      s.onPick = null;
      for (const { m } of own.values()) m.remove();
      own.clear();
      s.el.remove();
      setMap(null);
    };
  }, [area, t]);

  useEffect(() => {
    if (map) setAttribution(map, t('map.attribution'));
  }, [map, t]);
  useEffect(() => {
    map?.el.setAttribute('aria-label', props.label);
  }, [map, props.label]);

  // markers follow the props
  useEffect(() => {
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
        entry = { m: new maplibregl.Marker({ element: markerElement(m, t), anchor: m.kind === 'pickup' || m.kind === 'dropoff' || m.kind === 'me' ? 'bottom' : 'center' }), key };
        entry.m.setLngLat([m.lon, m.lat]).addTo(map.map);
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
    const pts = props.fitTo ?? [];
    if (props.follow && pts.length > 1 && !map.map.isMoving()) {
      const { clientWidth: w, clientHeight: h } = map.el;
      const out = pts.some((p) => {
        const px = map.map.project([p.lon, p.lat]);
        return px.x < 40 || px.x > w - 80 || px.y < 40 || px.y > h - 30;
      });
      if (out) {
        const b = new maplibregl.LngLatBounds();
        for (const p of pts) b.extend([p.lon, p.lat]);
        map.map.fitBounds(b, { padding: FIT_PADDING, maxZoom: 16.5, duration: 500 });
      }
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.markers, map, t]);

  // the view: the points when their set changes (not on every bus movement), else the whole service area
  useEffect(() => {
    if (!map) return;
    const pts = props.fitTo ?? [];
    const m = map.map;
    if (!pts.length) {
      const [w, s, e, n] = map.bounds;
      m.fitBounds([w, s, e, n], { padding: 8, duration: 0 });
    } else if (pts.length === 1) {
      m.easeTo({ center: [pts[0].lon, pts[0].lat], zoom: Math.max(m.getZoom(), 15.5), duration: 300 });
    } else {
      const b = new maplibregl.LngLatBounds();
      for (const p of pts) b.extend([p.lon, p.lat]);
      m.fitBounds(b, { padding: FIT_PADDING, maxZoom: 16.5, duration: 300 });
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.fitKey, map]);

  return (
    <div className={`map-wrap ${props.className ?? ''}`}>
      {failed ? <p className="map-failed">{t('map.unavailable')}</p> : <div ref={holder} className="map-holder" />}
    </div>
  );
}
