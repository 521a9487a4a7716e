import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The deployment's places (hubs, depot, service area) are fixtures, not code, so another town can run the
 * service with its own files. FIXTURES_DIR overrides the folder.
 */
export const FIXTURES_DIR = process.env.FIXTURES_DIR ? resolve(process.env.FIXTURES_DIR) : resolve(import.meta.dirname, '..', '..', 'fixtures');

export interface Hub {
  id: string;
  name: string;
  stop: string;
  lat: number;
  lon: number;
  osmNodeId?: number;
}
export interface Depot {
  id: string;
  name: string;
  lat: number;
  lon: number;
  chargers: { id: string; powerKw: number }[];
}
export interface ServiceArea {
  type: 'FeatureCollection';
  features: { type: 'Feature'; properties: Record<string, unknown>; geometry: { type: 'Polygon'; coordinates: [number, number][][] } }[];
}

function readJson<T>(name: string, dir = FIXTURES_DIR): T {
  return JSON.parse(readFileSync(resolve(dir, name), 'utf8')) as T;
}
export const loadHubs = (dir?: string): Hub[] => readJson<{ hubs: Hub[] }>('hubs.json', dir).hubs;
export const loadDepot = (dir?: string): Depot => readJson<Depot>('depot.json', dir);
export const loadServiceArea = (dir?: string): ServiceArea => readJson<ServiceArea>('service-area.geojson', dir);
