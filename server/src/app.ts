import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import helmet from 'helmet';
import { rateLimit } from 'express-rate-limit';
import pino, { type Logger } from 'pino';
import { Server as IoServer } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { RoutingEngine } from '@kl/routing';
import { FIXTURES_DIR, loadDepot, loadHubs, loadServiceArea, type Hub, type ServiceArea } from '@kl/routing/fixtures.ts';
import { loadStaff } from './auth/staff.ts';
import { TokenService } from './auth/tokens.ts';
import { BookingService } from './bookings/service.ts';
import type { ServerConfig } from './config.ts';
import { systemClock, type Clock } from './core/clock.ts';
import { Rng } from './core/rng.ts';
import { Dispatcher } from './dispatch/dispatcher.ts';
import { timetableSchema } from './dispatch/timetable.ts';
import { loadFleetFile } from './fleet/fleet-file.ts';
import { FleetRegistry, type VehicleDef } from './fleet/registry.ts';
import { attachRealtime, type Realtime } from './fleet/realtime.ts';
import { attachReplay } from './replay/replay.ts';
import { RunStore } from './replay/run-store.ts';
import { clientErrorHandler, errorHandler, express, mountRoutes, openApiDocument, type RouteDef } from './http/api.ts';
import { ApiError } from './http/errors.ts';
import { apiRoutes } from './http/routes.ts';
import { Metrics } from './metrics.ts';
import { RoadOracle } from './routing/oracle.ts';
import { JournalStore } from './store/journal.ts';
import { RedisStore } from './store/redis.ts';
import type { PersistedState, Store } from './store/types.ts';
import { ClusterLink, withQuietPublish } from './cluster/link.ts';
import { ClusterNode } from './cluster/node.ts';
import { TeleopControlCenter } from './teleop/controlCenter.ts';
import type { TeleopServiceOptions } from './teleop/service.ts';
import type { TeleopConfig } from './teleop/types.ts';

export interface AppDeps {
  engine?: RoutingEngine;
  clock?: Clock;
  store?: Store;
  logger?: Logger;
  fleet?: VehicleDef[];
  /** teleoperation: core configuration and socket-layer options beyond `config.teleop` (tests) */
  teleop?: { core?: Partial<TeleopConfig>; service?: Partial<TeleopServiceOptions> };
}

export interface App {
  http: HttpServer;
  io: IoServer;
  engine: RoutingEngine;
  bookings: BookingService;
  fleet: FleetRegistry;
  tokens: TokenService;
  store: Store;
  realtime: Realtime;
  /** teleoperation safety core (leases, MRM, commands, audit) */
  teleop: TeleopControlCenter;
  log: Logger;
  hubs: Hub[];
  listen(port?: number, host?: string): Promise<AddressInfo>;
  close(): Promise<void>;
  isDispatchLeader(): boolean;
  /** the REST route table (the express routes and the OpenAPI document are built from it) */
  routes: RouteDef<any, any>[];
}

/** Token secret: configured, or generated once and kept in DATA_DIR so tokens survive a restart. */
function tokenSecret(config: ServerConfig): Buffer {
  if (config.authSecret) return Buffer.from(config.authSecret);
  mkdirSync(config.dataDir, { recursive: true });
  const path = join(config.dataDir, 'token-secret');
  if (existsSync(path)) return Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  const s = TokenService.randomSecret();
  writeFileSync(path, s.toString('base64'), { mode: 0o600 });
  return s;
}

/**
 * Builds the whole server (express + socket.io on one HTTP server) without listening: `main.ts` is the only
 * place that listens. Everything external (routing engine, clock, store) can be injected for tests.
 */
export async function createApp(config: ServerConfig, deps: AppDeps = {}): Promise<App> {
  const log = deps.logger ?? pino({ level: config.logLevel, base: { instance: config.instanceId } });
  const clock = deps.clock ?? systemClock;
  const engine = deps.engine ?? (await RoutingEngine.load({ osmFile: config.osmFile, log: (m) => log.info(m) }));
  const hubs = loadHubs();
  const depot = loadDepot();
  const serviceArea: ServiceArea = loadServiceArea();
  const staffFile = config.staffFile ?? join(FIXTURES_DIR, 'staff.json');
  const staff = loadStaff(staffFile, config.production);
  const fleetFile = config.fleetFile ?? join(FIXTURES_DIR, 'fleet.json');
  const fleetSource = deps.fleet ? null : loadFleetFile(fleetFile);
  const fleetDefs = deps.fleet ?? fleetSource!.vehicles;
  if (config.production && fleetSource?.demo) {
    throw new Error(`${fleetFile} holds demo vehicle keys, refused with NODE_ENV=production (set FLEET_FILE)`);
  }
  const tokens = new TokenService(tokenSecret(config));
  const metrics = new Metrics();

  const store: Store = deps.store ?? (config.redisUrl ? await RedisStore.connect(config.redisUrl, config.redisPrefix) : new JournalStore(config.dataDir));
  const persisted = await store.load();

  const oracle = new RoadOracle(engine);
  const timetablePath = join(FIXTURES_DIR, 'timetable.json');
  const timetable = existsSync(timetablePath) ? timetableSchema.parse(JSON.parse(readFileSync(timetablePath, 'utf8'))) : undefined;
  const dispatchConfig = {
    hubs: hubs.map((h) => ({ id: h.id, name: h.name, location: oracle.locate(h.lat, h.lon) })),
    depot: oracle.locate(depot.lat, depot.lon),
    serviceArea: serviceArea.features[0].geometry,
    ...(timetable ? { timetable } : {}),
  };
  // Built at start-up and again by a new dispatcher leader (cluster/node.ts) from what its predecessor stored.
  const buildDispatcher = (p: PersistedState): Dispatcher => {
    const rng = new Rng(1);
    const d = p.dispatcher
      ? Dispatcher.fromJSON(p.dispatcher, { clock, rng, oracle, config: dispatchConfig })
      : new Dispatcher({ clock, rng, oracle, config: dispatchConfig });
    // Simulated drivers staff every bus until a human takes over (teleoperation); their shifts cover the day.
    const now = clock.now();
    d.setRoster(fleetDefs.map((v) => ({ id: `sim:${v.id}`, start: now - 3600_000, end: now + 365 * 24 * 3600_000 })));
    const known = new Set(d.plans().map((p) => p.vehicleId));
    for (const v of fleetDefs) {
      if (known.has(v.id)) continue;
      d.addVehicle({
        id: v.id,
        seats: v.seats,
        wheelchairPlaces: v.wheelchairPlaces,
        position: oracle.locate(v.start.lat, v.start.lon),
        time: now,
        soc: v.soc,
        batteryKWh: v.batteryKWh,
        driverId: null,
        status: 'out-of-service', // until the bus connects
      });
    }
    return d;
  };
  const dispatcher = buildDispatcher(persisted);
  const area = serviceArea.features[0];
  const bookings = new BookingService(dispatcher, oracle, store, clock, hubs, (lat, lon) => booleanPointInPolygon([lon, lat], area));
  bookings.restore(persisted.bookings);
  const fleet = new FleetRegistry(fleetDefs);

  // ---- teleoperation: one safety core per process; simulated drivers staff every bus no human holds
  const tc = config.teleop ?? {};
  const teleopCore: Partial<TeleopConfig> = {
    ...(tc.leaseTimeoutMs !== undefined ? { leaseTimeoutMs: tc.leaseTimeoutMs } : {}),
    ...(tc.latencyBudgetMs !== undefined ? { latencyBudgetMs: tc.latencyBudgetMs } : {}),
    ...(tc.latencyHardLimitMs !== undefined ? { latencyHardLimitMs: tc.latencyHardLimitMs } : {}),
    ...(tc.videoDelayMs !== undefined ? { videoDelayMs: tc.videoDelayMs } : {}),
    ...deps.teleop?.core,
  };
  const teleop = new TeleopControlCenter(clock, teleopCore);
  if (teleop.config.latencyBudgetMs > teleop.config.latencyHardLimitMs) {
    throw new Error(`teleoperation: latency budget ${teleop.config.latencyBudgetMs} ms above the hard limit ${teleop.config.latencyHardLimitMs} ms`);
  }
  const simulatedDrivers = deps.teleop?.service?.simulatedDrivers ?? tc.simulatedDrivers ?? true;
  for (const v of fleetDefs) teleop.addVehicle(v.id, { simulatedDriver: simulatedDrivers });

  // ---- several instances on one Redis (cluster/node.ts): the lease holder decides bookings, runs the dispatcher
  let cluster: ClusterNode | null = null;
  const isDispatchLeader = () => (cluster ? cluster.isLeader : true);

  // ---- HTTP
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:', 'blob:'],
          workerSrc: ["'self'", 'blob:'],
          connectSrc: ["'self'", 'ws:', 'wss:'],
        },
      },
    }),
  );
  app.use(express.json({ limit: '32kb', strict: true }));
  app.use('/api/auth', rateLimit({ windowMs: 60_000, limit: 300, standardHeaders: 'draft-7', legacyHeaders: false, message: { error: { code: 'RATE_LIMITED', message: 'too many requests' } } }));
  const router = express.Router();
  const routeDefs = apiRoutes({
    tokens,
    staff,
    bookings,
    fleet,
    engine,
    hubs,
    serviceArea,
    store,
    health: () => {
      const s = store.status();
      return {
        ok: s.ok,
        store: s,
        dispatcher: { leader: isDispatchLeader(), vehicles: bookings.dispatcherRef.plans().length, bookings: bookings.dispatcherRef.bookings().length },
        routing: { segments: engine.graph.numSegs, source: engine.info.source },
        vehiclesOnline: fleet.onlineCount(),
        instance: config.instanceId,
        ...(cluster ? { cluster: cluster.health() } : {}),
      };
    },
    metrics: () => {
      const counts: Record<string, number> = {};
      for (const b of bookings.all()) counts[b.status] = (counts[b.status] ?? 0) + 1;
      return metrics.render(counts);
    },
    openapi: () => doc,
    observeDispatch: (ms) => metrics.dispatchLatency.observe(ms / 1000),
    oracle,
    clock,
  });
  const doc = openApiDocument(routeDefs, { title: 'KL Shuttle API', version: '0.1.0' });
  mountRoutes(router, routeDefs, tokens, (where) => metrics.inputRejected.inc({ where }));
  app.use(router);
  app.use('/api', (_req, _res, next) => next(new ApiError(404, 'NOT_FOUND', 'no such API route')));
  for (const [mount, dir] of [
    ['/leitstand', resolve(import.meta.dirname, '..', '..', 'control-room-ui', 'dist')],
    ['/', resolve(import.meta.dirname, '..', '..', 'rider-app', 'dist')],
  ] as const) {
    if (existsSync(dir)) app.use(mount, express.static(dir, { index: 'index.html' }));
    else app.get(mount === '/' ? '/' : `${mount}/`, (_req, res) => res.type('html').send(placeholderPage(mount)));
  }
  if (!existsSync(resolve(import.meta.dirname, '..', '..', 'control-room-ui', 'dist'))) app.get('/leitstand', (_req, res) => res.redirect('/leitstand/'));
  app.use((_req, _res, next) => next(new ApiError(404, 'NOT_FOUND', 'not found')));
  app.use(errorHandler(log));

  const http = createServer(app);
  http.on('clientError', clientErrorHandler);
  // every TCP connection, also upgraded websockets (a peer or a proxy that never finishes the close handshake
  // must not keep close() waiting)
  const connections = new Set<import('node:net').Socket>();
  http.on('connection', (s) => {
    connections.add(s);
    s.once('close', () => connections.delete(s));
  });
  const io = new IoServer(http, { serveClient: false, maxHttpBufferSize: 64 * 1024, cors: { origin: false }, pingInterval: 5000, pingTimeout: 5000 });
  let pub: RedisStore | null = null, sub: RedisStore | null = null;
  if (store instanceof RedisStore && config.redisUrl) {
    pub = await RedisStore.connect(config.redisUrl);
    sub = await RedisStore.connect(config.redisUrl);
    io.adapter(createAdapter(withQuietPublish(pub.client), sub.client));
  }
  const realtime = attachRealtime({
    io,
    tokens,
    fleet,
    bookings,
    clock,
    log,
    metrics,
    keyOf: (id) => fleetDefs.find((v) => v.id === id)?.keyHash,
    store,
    teleop,
    instanceId: config.instanceId,
    teleopOptions: {
      simulatedDrivers,
      ...(tc.simRecoverMs !== undefined ? { simRecoverMs: tc.simRecoverMs } : {}),
      ...deps.teleop?.service,
    },
  });

  // replay of recorded runs (DATA_DIR/runs/<id>/events.ndjson), per console, never mixed with live state
  attachReplay(realtime.leitstand as never, new RunStore(join(config.dataDir, 'runs')), clock, (where) => metrics.inputRejected.inc({ where }));

  let link: ClusterLink | null = null;
  if (store instanceof RedisStore && config.redisUrl) {
    link = await ClusterLink.connect(config.redisUrl, config.redisPrefix, config.instanceId, log);
    cluster = new ClusterNode({ link, store, log, instanceId: config.instanceId, prefix: config.redisPrefix, leaseMs: config.leaderLeaseMs ?? 3000, bookings, fleet, realtime, buildDispatcher });
    await cluster.start();
  }

  // ---- periodic work
  const tickTimer = setInterval(() => {
    if (!isDispatchLeader()) return;
    bookings.tick().catch((e) => log.error({ err: e }, 'dispatcher tick failed'));
  }, 1000);

  return {
    http,
    io,
    engine,
    bookings,
    fleet,
    tokens,
    store,
    realtime,
    teleop,
    log,
    hubs,
    isDispatchLeader,
    routes: routeDefs,
    listen(port = config.port, host = config.host) {
      return new Promise((res, rej) => {
        http.once('error', rej);
        http.listen(port, host, () => res(http.address() as AddressInfo));
      });
    },
    async close() {
      clearInterval(tickTimer);
      realtime.stop();
      await cluster?.close();
      const linger = setTimeout(() => {
        for (const s of connections) s.destroy();
      }, 1000);
      await new Promise<void>((r) => io.close(() => r()));
      clearTimeout(linger);
      if (http.listening) await new Promise<void>((r) => http.close(() => r()));
      metrics.stop();
      await link?.close();
      await store.close();
      await pub?.close();
      await sub?.close();
    },
  };
}

function placeholderPage(mount: string): string {
  const title = mount === '/' ? 'KL Shuttle – Fahrt buchen' : 'KL Shuttle – Leitstand';
  return `<!doctype html><html lang="de"><head><meta charset="utf-8"><title>${title}</title></head><body><main><h1>${title}</h1><p>Die Oberfläche ist noch nicht gebaut. Die API läuft: <a href="/api/health">/api/health</a>, <a href="/api/openapi.json">/api/openapi.json</a>.</p><p>Kartendaten © OpenStreetMap-Mitwirkende (ODbL)</p></main></body></html>`;
}
