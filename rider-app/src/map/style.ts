import type { StyleSpecification } from 'maplibre-gl';

const empty = { type: 'FeatureCollection' as const, features: [] };

/**
 * The base map from the server's GeoJSON layers of the OSM extract: no tile server, no web fonts, no glyphs
 * (so no text layers: street names are written in the app instead), works with no internet at all.
 */
export function baseStyle(): StyleSpecification {
  const src = () => ({ type: 'geojson' as const, data: empty });
  return {
    version: 8,
    sources: { green: src(), water: src(), buildings: src(), roads: src(), rail: src(), area: src() },
    layers: [
      { id: 'bg', type: 'background', paint: { 'background-color': '#f3f0e8' } },
      { id: 'green', type: 'fill', source: 'green', paint: { 'fill-color': '#d3e8c3' } },
      { id: 'water', type: 'fill', source: 'water', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': '#a9d0e0' } },
      { id: 'waterways', type: 'line', source: 'water', filter: ['==', ['geometry-type'], 'LineString'], paint: { 'line-color': '#8fc0d6', 'line-width': 1.5 } },
      { id: 'buildings', type: 'fill', source: 'buildings', minzoom: 14, paint: { 'fill-color': '#dcd5ca', 'fill-outline-color': '#c8bfb2' } },
      {
        id: 'paths',
        type: 'line',
        source: 'roads',
        minzoom: 15,
        filter: ['match', ['get', 'class'], ['footway', 'path', 'cycleway', 'steps', 'pedestrian', 'track', 'platform'], true, false],
        paint: { 'line-color': '#b9ad9c', 'line-width': 1, 'line-dasharray': [2, 1.5] },
      },
      {
        id: 'road-casing',
        type: 'line',
        source: 'roads',
        filter: ['!', ['match', ['get', 'class'], ['footway', 'path', 'cycleway', 'steps', 'pedestrian', 'track', 'platform', 'construction'], true, false]],
        layout: { 'line-cap': 'round', 'line-join': 'round' },
        paint: {
          'line-color': '#a39787',
          'line-width': ['interpolate', ['linear'], ['zoom'], 12, ['match', ['get', 'class'], ['primary', 'secondary', 'trunk'], 2.5, 1.2], 17, ['match', ['get', 'class'], ['primary', 'secondary', 'trunk'], 14, ['service'], 6, 10]],
        },
      },
      {
        id: 'roads',
        type: 'line',
        source: 'roads',
        filter: ['!', ['match', ['get', 'class'], ['footway', 'path', 'cycleway', 'steps', 'pedestrian', 'track', 'platform', 'construction'], true, false]],
        layout: { 'line-cap': 'round', 'line-join': 'round' },
        paint: {
          'line-color': ['match', ['get', 'class'], ['primary', 'primary_link', 'trunk'], '#f7d38a', ['secondary', 'secondary_link'], '#faeab0', '#ffffff'],
          'line-width': ['interpolate', ['linear'], ['zoom'], 12, ['match', ['get', 'class'], ['primary', 'secondary', 'trunk'], 1.5, 0.6], 17, ['match', ['get', 'class'], ['primary', 'secondary', 'trunk'], 11, ['service'], 4, 8]],
        },
      },
      { id: 'rail', type: 'line', source: 'rail', paint: { 'line-color': '#8a8a8a', 'line-width': 1.5, 'line-dasharray': [3, 2] } },
      { id: 'area-fill', type: 'fill', source: 'area', paint: { 'fill-color': '#1d4f91', 'fill-opacity': 0.04 } },
      { id: 'area-line', type: 'line', source: 'area', paint: { 'line-color': '#1d4f91', 'line-width': 2.5, 'line-dasharray': [4, 2] } },
    ],
  };
}
