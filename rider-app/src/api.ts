import type { BookingView, Departures, GeocodeHit, Hub, ServiceArea } from './types.ts';

/**
 * REST client. The rider is pseudonymous: a token from POST /api/auth/rider, kept in this device's storage and
 * nowhere else. No name, e-mail or phone is ever asked for or sent.
 */
const TOKEN_KEY = 'kl-shuttle.rider.token';

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: { error?: { code?: string; message?: string; alternative?: { type: 'departure' | 'arrival'; time: string }; details?: unknown } } | null,
  ) {
    super(message);
  }
}

let tokenPromise: Promise<string> | null = null;

export function storedToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** The rider token of this device; a new pseudonym is issued the first time. */
export function ensureToken(): Promise<string> {
  const t = storedToken();
  if (t) return Promise.resolve(t);
  tokenPromise ??= (async () => {
    const r = await call<{ token: string; riderId: string }>('POST', '/api/auth/rider', {}, false);
    try {
      localStorage.setItem(TOKEN_KEY, r.token);
    } catch {
      /* private mode: the token lives as long as the page */
    }
    memoryToken = r.token;
    return r.token;
  })().finally(() => {
    tokenPromise = null;
  });
  return tokenPromise;
}
let memoryToken: string | null = null;

export function forgetToken(): void {
  memoryToken = null;
  try {
    localStorage.removeItem(TOKEN_KEY);
  } catch {
    /* nothing stored */
  }
}

async function call<T>(method: string, path: string, body?: unknown, auth = true, signal?: AbortSignal, retried = false): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (auth) headers.authorization = `Bearer ${storedToken() ?? memoryToken ?? (await ensureToken())}`;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiFailure(0, 'NETWORK', 'network error', null);
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const err = (json as ApiFailure['body'])?.error;
    // an unknown or expired token (e.g. the server's secret changed): start over with a new pseudonym, once
    if (res.status === 401 && auth && path !== '/api/auth/rider') {
      forgetToken();
      if (!retried) return call<T>(method, path, body, auth, signal, true);
    }
    throw new ApiFailure(res.status, err?.code ?? 'HTTP', err?.message ?? res.statusText, json as ApiFailure['body']);
  }
  return json as T;
}

export interface BookingRequest {
  pickup: { lat: number; lon: number } | { hubId: string };
  dropoff: { lat: number; lon: number } | { hubId: string };
  passengers: number;
  wheelchairs: number;
  departAt?: string;
  arriveBy?: string;
}

export const api = {
  hubs: () => call<Hub[]>('GET', '/api/hubs', undefined, false),
  serviceArea: () => call<ServiceArea>('GET', '/api/service-area', undefined, false),
  /** one base-map layer (GeoJSON) of the server's default view, for MapLibre to fetch in its worker */
  basemapLayerUrl: (layer: 'roads' | 'buildings' | 'water' | 'green' | 'rail') => new URL(`/api/map/basemap?layer=${layer}`, window.location.href).href,
  geocode: (q: string, signal?: AbortSignal) => call<GeocodeHit[]>('GET', `/api/geocode?q=${encodeURIComponent(q)}&limit=8`, undefined, false, signal),
  reverse: (lat: number, lon: number) => call<GeocodeHit>('GET', `/api/geocode/reverse?lat=${lat.toFixed(6)}&lon=${lon.toFixed(6)}`, undefined, false),
  departures: (hubId: string, from?: number, limit = 3) =>
    call<Departures>('GET', `/api/hubs/${encodeURIComponent(hubId)}/departures?limit=${limit}${from ? `&from=${Math.round(from)}` : ''}`, undefined, false),
  book: (b: BookingRequest) => call<BookingView>('POST', '/api/bookings', b),
  confirm: (id: string) => call<BookingView>('POST', `/api/bookings/${encodeURIComponent(id)}/confirm`),
  cancel: (id: string) => call<BookingView>('DELETE', `/api/bookings/${encodeURIComponent(id)}`),
  bookings: () => call<BookingView[]>('GET', '/api/bookings'),
  deleteMe: () => call<{ deleted: number }>('DELETE', '/api/riders/me'),
};
