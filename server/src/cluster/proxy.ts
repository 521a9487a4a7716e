import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import httpProxy from 'http-proxy';

/**
 * The small reverse proxy of `npm run cluster` and the cluster tests: the local stand-in for the Caddy of
 * docker-compose.yml (deploy/Caddyfile), with the same rules:
 * - sticky sessions by cookie (`kl_backend`, set on the first HTTP answer), so a browser's socket.io long-polling
 *   requests all reach the instance that holds their session;
 * - without the cookie, engine.io polling goes by a hash of the client address (its requests must stay
 *   together); plain requests and websocket upgrades (which need no stickiness) go round robin;
 * - websocket upgrade passed through;
 * - active health checks (`/api/health` every second): an instance that fails is skipped until it answers again,
 *   and a request that cannot reach its instance marks it down at once (the client's retry lands elsewhere).
 *   When none is healthy (e.g. Redis restarting makes every /api/health say 503), all are tried.
 */

export interface Backend {
  name: string;
  url: string;
}

export interface ProxyOptions {
  backends: Backend[];
  port?: number;
  host?: string;
  cookie?: string;
  healthPath?: string;
  healthMs?: number;
}

export interface RunningProxy {
  url: string;
  server: Server;
  healthy(): string[];
  /** requests / upgrades routed per backend name */
  routed: Record<string, number>;
  close(): Promise<void>;
}

export async function startProxy(o: ProxyOptions): Promise<RunningProxy> {
  if (!o.backends.length) throw new Error('proxy: no backends');
  const cookieName = o.cookie ?? 'kl_backend';
  const healthPath = o.healthPath ?? '/api/health';
  const up = new Map(o.backends.map((b) => [b.name, true]));
  const routed: Record<string, number> = Object.fromEntries(o.backends.map((b) => [b.name, 0]));
  let rr = 0;
  const proxy = httpProxy.createProxyServer({ xfwd: true, ws: true, proxyTimeout: 30_000 });

  const candidates = () => {
    const ok = o.backends.filter((b) => up.get(b.name));
    return ok.length ? ok : o.backends;
  };
  const cookieOf = (req: IncomingMessage): string | null => {
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === cookieName) return decodeURIComponent(v.join('='));
    }
    return null;
  };
  const pick = (req: IncomingMessage): { backend: Backend; setCookie: boolean } => {
    const c = cookieOf(req);
    const pinned = c ? o.backends.find((b) => b.name === c) : undefined;
    if (pinned && up.get(pinned.name)) return { backend: pinned, setCookie: false };
    const list = candidates();
    const polling = (req.url ?? '').startsWith('/socket.io/') && /[?&]transport=polling/.test(req.url ?? '');
    let backend: Backend;
    if (polling) {
      const ip = req.socket.remoteAddress ?? '';
      backend = list[createHash('sha1').update(ip).digest().readUInt32BE(0) % list.length];
    } else backend = list[rr++ % list.length];
    return { backend, setCookie: true };
  };
  const markDown = (name: string) => up.set(name, false);

  // a websocket ends on both sides together (http-proxy leaves the other half open when one side just closes)
  proxy.on('proxyReqWs', (proxyReq, _req, socket) => {
    proxyReq.once('upgrade', (_res, backendSocket: Socket) => {
      socket.once('close', () => backendSocket.destroy());
      backendSocket.once('close', () => socket.destroy());
    });
  });
  proxy.on('proxyRes', (proxyRes, req) => {
    const set = (req as IncomingMessage & { klSetCookie?: string }).klSetCookie;
    if (!set) return;
    const prev = proxyRes.headers['set-cookie'] ?? [];
    proxyRes.headers['set-cookie'] = [...prev, `${cookieName}=${encodeURIComponent(set)}; Path=/; HttpOnly; SameSite=Lax`];
  });
  proxy.on('error', (err, req, res) => {
    const name = (req as IncomingMessage & { klBackend?: string }).klBackend;
    if (name && /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ETIMEDOUT/.test((err as NodeJS.ErrnoException).code ?? '')) markDown(name);
    if ('writeHead' in res && !res.headersSent) {
      (res as ServerResponse).writeHead(502, { 'content-type': 'application/json' });
      (res as ServerResponse).end(JSON.stringify({ error: { code: 'BAD_GATEWAY', message: `instance ${name ?? '?'} not reachable; try again` } }));
    } else (res as Socket).destroy?.();
  });

  const server = createServer((req, res) => {
    const { backend, setCookie } = pick(req);
    Object.assign(req, { klBackend: backend.name, ...(setCookie ? { klSetCookie: backend.name } : {}) });
    routed[backend.name]++;
    proxy.web(req, res, { target: backend.url });
  });
  const upgraded = new Set<Socket>();
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const { backend } = pick(req);
    Object.assign(req, { klBackend: backend.name });
    routed[backend.name]++;
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    socket.on('error', () => socket.destroy());
    proxy.ws(req, socket, head, { target: backend.url });
  });

  let closing = false;
  const check = async () => {
    await Promise.all(
      o.backends.map(async (b) => {
        try {
          const r = await fetch(b.url + healthPath, { signal: AbortSignal.timeout(900) });
          await r.arrayBuffer();
          up.set(b.name, r.ok);
        } catch {
          up.set(b.name, false);
        }
      }),
    );
  };
  await check();
  const timer = setInterval(() => void (closing ? null : check()), o.healthMs ?? 1000);
  timer.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${addr.address === '0.0.0.0' || addr.address === '::' ? '127.0.0.1' : addr.address}:${addr.port}`,
    server,
    healthy: () => o.backends.filter((b) => up.get(b.name)).map((b) => b.name),
    routed,
    async close() {
      closing = true;
      clearInterval(timer);
      server.closeAllConnections?.();
      for (const s of upgraded) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      proxy.close();
    },
  };
}
