import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import recorded from './fixtures/osrm-route-response.json' with { type: 'json' };
import { OsrmHttpBackend, OsrmHttpError } from './http-backend.ts';

let server: Server;
let base = '';
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    res.setHeader('content-type', 'application/json');
    if (req.url?.startsWith('/route/v1/driving/0.000000,0.000000')) {
      res.statusCode = 400;
      res.end(JSON.stringify({ code: 'NoSegment', message: 'Could not find a matching segment for coordinate 0' }));
    } else if (req.url?.startsWith('/route/')) res.end(JSON.stringify(recorded));
    else if (req.url?.startsWith('/table/')) res.end(JSON.stringify({ code: 'Ok', durations: [[232.6]], distances: [[1721.3]], sources: [], destinations: [] }));
    else if (req.url?.startsWith('/garbage')) res.end('not json');
    else res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const uniOst = { lat: 49.42411, lon: 7.75578 }, pfaffwerk = { lat: 49.43609, lon: 7.75446 };

describe('external OSRM backend over HTTP (recorded response)', () => {
  it('asks OSRM for steps with GeoJSON geometry and returns the route with German instructions', async () => {
    const backend = new OsrmHttpBackend(base);
    const res = await backend.route([uniOst, pfaffwerk], { lang: 'de' });
    expect(requests.at(-1)).toBe('/route/v1/driving/7.755780,49.424110;7.754460,49.436090?steps=true&geometries=geojson&overview=full');
    expect(res.code).toBe('Ok');
    expect(res.routes[0].duration).toBe(232.6);
    expect(res.routes[0].legs[0].steps.map((s) => s.instruction)).toEqual([
      'Fahren Sie Richtung Osten auf Gottlieb-Daimler-Straße',
      'Leicht links weiter auf Pfaffenbergstraße',
      'Links abbiegen auf Balbierstraße',
      'Leicht links weiter auf Königstraße',
      'Sie haben Ihr Ziel erreicht, es befindet sich rechts',
    ]);
  });

  it('passes on OSRM error codes instead of throwing', async () => {
    const res = await new OsrmHttpBackend(base).route([{ lat: 0, lon: 0 }, pfaffwerk]);
    expect(res.code).toBe('NoSegment');
    expect(res.routes).toEqual([]);
  });

  it('table splits sources and destinations by index', async () => {
    const res = await new OsrmHttpBackend(base).table([uniOst], [pfaffwerk]);
    expect(requests.at(-1)).toContain('?sources=0&destinations=1&annotations=duration,distance');
    expect(res.durations).toEqual([[232.6]]);
  });

  it('reports an unreachable server and a non-JSON answer as clear errors', async () => {
    await expect(new OsrmHttpBackend('http://127.0.0.1:9', 'driving', 500).route([uniOst, pfaffwerk])).rejects.toThrow(OsrmHttpError);
    await expect(new OsrmHttpBackend(`${base}/garbage`).route([uniOst, pfaffwerk])).rejects.toThrow(/without JSON/);
    expect(() => new OsrmHttpBackend('ftp://x')).toThrow(/http/);
  });
});
