import { annotateLegs, type Lang } from './instructions.ts';
import type { OsrmRouteResponse, OsrmTableResponse } from './types.ts';
import type { LatLon } from '../engine.ts';

/**
 * The same route/table interface as the built-in engine, answered by an external OSRM server (OSRM_URL) for
 * operators who already run one. Responses are checked for shape before use; instructions are rendered by our
 * own wrapper so that both backends speak identically.
 */
export class OsrmHttpError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class OsrmHttpBackend {
  constructor(
    private readonly baseUrl: string,
    private readonly profile = 'driving',
    private readonly timeoutMs = 5000,
  ) {
    const u = new URL(baseUrl); // throws on a malformed OSRM_URL, at start-up rather than on first use
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`OSRM_URL must be http(s): ${baseUrl}`);
  }

  private coords(points: LatLon[]): string {
    return points.map((p) => `${p.lon.toFixed(6)},${p.lat.toFixed(6)}`).join(';');
  }

  private async get(path: string): Promise<unknown> {
    const url = `${this.baseUrl.replace(/\/$/, '')}${path}`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      throw new OsrmHttpError('Unreachable', `OSRM server not reachable at ${this.baseUrl}: ${(e as Error).message}`);
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      throw new OsrmHttpError('BadResponse', `OSRM answered HTTP ${res.status} without JSON`);
    }
    const code = (body as { code?: unknown })?.code;
    if (typeof code !== 'string') throw new OsrmHttpError('BadResponse', 'OSRM response has no code');
    if (!res.ok && code === 'Ok') throw new OsrmHttpError('BadResponse', `OSRM answered HTTP ${res.status}`);
    return body;
  }

  async route(points: LatLon[], opts: { lang?: Lang } = {}): Promise<OsrmRouteResponse> {
    if (points.length < 2) throw new OsrmHttpError('InvalidInput', 'a route needs at least two coordinates');
    const body = (await this.get(`/route/v1/${this.profile}/${this.coords(points)}?steps=true&geometries=geojson&overview=full`)) as OsrmRouteResponse;
    if (body.code !== 'Ok') return { code: body.code, message: body.message, routes: [], waypoints: body.waypoints ?? [] };
    if (!Array.isArray(body.routes) || body.routes.some((r) => !Array.isArray(r.legs) || r.geometry?.type !== 'LineString')) {
      throw new OsrmHttpError('BadResponse', 'OSRM route response is not in v5 format with GeoJSON geometry');
    }
    if (opts.lang) for (const r of body.routes) annotateLegs(r.legs, opts.lang);
    return body;
  }

  async table(sources: LatLon[], destinations: LatLon[]): Promise<OsrmTableResponse> {
    const all = [...sources, ...destinations];
    const src = sources.map((_, i) => i).join(';');
    const dst = destinations.map((_, i) => i + sources.length).join(';');
    const body = (await this.get(`/table/v1/${this.profile}/${this.coords(all)}?sources=${src}&destinations=${dst}&annotations=duration,distance`)) as OsrmTableResponse;
    if (body.code === 'Ok' && (!Array.isArray(body.durations) || body.durations.length !== sources.length)) {
      throw new OsrmHttpError('BadResponse', 'OSRM table response has the wrong shape');
    }
    return body;
  }
}
