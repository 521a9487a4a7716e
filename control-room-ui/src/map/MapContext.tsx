import { Map as MapLibreMap, NavigationControl, setWorkerUrl, type Map as MLMap, type StyleSpecification } from 'maplibre-gl';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import 'maplibre-gl/dist/maplibre-gl.css';
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';

/**
 * A MapLibre map with an offline, label-free dark style: the base map comes as GeoJSON from the server's OSM
 * extract (no tiles, no glyphs, no internet). Layers are children that add themselves once the map is ready.
 */
// MapLibre v6 under a bundler: its worker is emitted as an asset and registered once (same origin, CSP-safe)
setWorkerUrl(workerUrl);

const MapCtx = createContext<MLMap | null>(null);
export const useMap = () => useContext(MapCtx);

export const DARK_STYLE: StyleSpecification = {
  version: 8,
  sources: {},
  layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#0b1220' } }],
};

export function MapView(props: {
  children?: ReactNode;
  center?: [number, number];
  zoom?: number;
  pitch?: number;
  interactive?: boolean;
  className?: string;
  ariaLabel: string;
  onMap?: (m: MLMap) => void;
}) {
  const el = useRef<HTMLDivElement>(null);
  const [map, setMap] = useState<MLMap | null>(null);
  useEffect(() => {
    if (!el.current) return;
    const m = new MapLibreMap({
      container: el.current,
      style: DARK_STYLE,
      center: props.center ?? [7.7555, 49.4305],
      zoom: props.zoom ?? 13.6,
      pitch: props.pitch ?? 0,
      interactive: props.interactive ?? true,
      attributionControl: { compact: false, customAttribution: '© OpenStreetMap-Mitwirkende (ODbL)' },
      fadeDuration: 0,
    });
    if (props.interactive !== false) m.addControl(new NavigationControl({ showCompass: true }), 'top-right');
    m.on('load', () => {
      setMap(m);
      props.onMap?.(m);
    });
    return () => {
      setMap(null);
      m.remove();
    };
    // the map is created once per mount
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return (
    <div className={props.className ?? 'map'} ref={el} role="region" aria-label={props.ariaLabel}>
      {map ? <MapCtx.Provider value={map}>{props.children}</MapCtx.Provider> : null}
    </div>
  );
}
