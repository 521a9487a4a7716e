import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z, type ZodType } from 'zod';
import type { Principal, Role, TokenService } from '../auth/tokens.ts';
import { ApiError, forbidden, unauthorized, validationError } from './errors.ts';

/**
 * Declarative REST routes: one table drives the express handlers, the validation of params/query/body, the
 * authorisation and the OpenAPI document, so the three can never drift apart.
 */
export type Access = 'public' | 'any' | readonly Role[];

export interface RouteDef<B = unknown, Q = unknown> {
  method: 'get' | 'post' | 'delete';
  path: string;
  summary: string;
  access: Access;
  body?: ZodType<B>;
  query?: ZodType<Q>;
  params?: Record<string, ZodType<string>>;
  responses: Record<number, string>;
  /** response body schema for 2xx JSON responses (documentation; checked against real responses in openapi.test.ts) */
  responseSchema?: ZodType;
  /**
   * success bodies that are not JSON, by media type: 'binary' (protobuf, zip) or 'text' (CSV, Prometheus). JSON
   * stays declared too when `responseSchema` is set (routes that serve both, chosen by a query parameter).
   */
  produces?: Record<string, 'binary' | 'text'>;
  handler: (ctx: { req: Request; res: Response; who: Principal | null; body: B; query: Q; params: Record<string, string> }) => Promise<unknown> | unknown;
}

export function defineRoute<B, Q>(r: RouteDef<B, Q>): RouteDef<B, Q> {
  return r;
}

export function principalOf(req: Request, tokens: TokenService): Principal | null {
  const h = req.headers.authorization;
  if (!h || !h.startsWith('Bearer ')) return null;
  return tokens.verify(h.slice(7));
}

/** Did the request bring a body with content (a parsed empty JSON object `{}` counts as none)? */
function carriesBody(req: Request): boolean {
  const b: unknown = req.body;
  if (b !== undefined) return !(b !== null && typeof b === 'object' && !Array.isArray(b) && Object.keys(b).length === 0);
  return Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
}

export function mountRoutes(router: Router, routes: RouteDef<any, any>[], tokens: TokenService, onRejected: (where: string) => void): void {
  for (const r of routes) {
    const expressPath = r.path.replace(/\{(\w+)\}/g, ':$1');
    router[r.method](expressPath, async (req: Request, res: Response, next: NextFunction) => {
      try {
        const who = principalOf(req, tokens);
        if (r.access !== 'public') {
          if (!who) throw unauthorized();
          if (r.access !== 'any' && !r.access.includes(who.role)) throw forbidden(`${req.method} ${r.path} needs role ${r.access.join(' or ')}`);
        }
        const params: Record<string, string> = {};
        for (const [name, schema] of Object.entries(r.params ?? {})) {
          const p = schema.safeParse(req.params[name]);
          if (!p.success) throw validationError(p.error, `path parameter ${name}`);
          params[name] = p.data;
        }
        let query: unknown = undefined;
        if (r.query) {
          const q = r.query.safeParse({ ...req.query });
          if (!q.success) throw validationError(q.error, 'query');
          query = q.data;
        } else if (Object.keys(req.query).length) {
          throw new ApiError(400, 'VALIDATION', `unexpected query parameters: ${Object.keys(req.query).join(', ')}`);
        }
        let body: unknown = undefined;
        if (r.body) {
          // a body in another media type is never parsed: refuse it rather than validate `{}` in its place
          if (carriesBody(req) && !req.is('application/json')) throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the request body as application/json');
          const b = r.body.safeParse(req.body ?? {});
          if (!b.success) throw validationError(b.error, 'body');
          body = b.data;
        } else if (carriesBody(req)) {
          // as with unknown fields: input the route would ignore is refused, so it never seems to have worked
          throw new ApiError(400, 'VALIDATION', `${req.method} ${r.path} takes no request body`);
        }
        const result = await r.handler({ req, res, who, body, query, params });
        if (!res.headersSent && result !== undefined) res.json(result);
      } catch (e) {
        if (e instanceof ApiError && e.status < 500) onRejected(`${r.method} ${r.path}`);
        next(e);
      }
    });
  }
}

/** Final error handler: every error becomes JSON; client errors keep their 4xx, nothing leaks a stack trace. */
export function errorHandler(log: { error: (o: object, msg: string) => void }) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    if (res.headersSent) return;
    if (err instanceof ApiError) {
      res.status(err.status).json(err.toJSON());
      return;
    }
    const e = err as { type?: string; status?: number; message?: string };
    // body-parser errors (malformed JSON, too large, wrong charset) are the client's
    if (e && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      const code = e.type === 'entity.too.large' ? 'PAYLOAD_TOO_LARGE' : e.type === 'entity.parse.failed' ? 'MALFORMED_JSON' : 'BAD_REQUEST';
      res.status(e.status).json({ error: { code, message: e.type === 'entity.parse.failed' ? 'request body is not valid JSON' : (e.message ?? 'bad request') } });
      return;
    }
    log.error({ err }, 'unhandled error in request');
    res.status(500).json({ error: { code: 'INTERNAL', message: 'internal error' } });
  };
}

/**
 * Requests node:http refuses before express sees them (headers or URL over the size limit, broken HTTP): the
 * same JSON error as every other refusal instead of node's bare status line.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'HEADERS_TOO_LARGE', 'request headers or URL too large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'REQUEST_TIMEOUT', 'request not received in time']
        : [400, 'BAD_REQUEST', 'malformed HTTP request'];
  const body = JSON.stringify({ error: { code, message } });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

/** OpenAPI 3.1 document from the route table (schemas through zod's JSON Schema export). */
export function openApiDocument(routes: RouteDef<any, any>[], info: { title: string; version: string }): object {
  const paths: Record<string, Record<string, unknown>> = {};
  // requests are documented as accepted (input), responses as sent (output: closed objects unless declared open)
  const toSchema = (s: ZodType, io: 'input' | 'output' = 'input') => {
    try {
      const { $schema: _, ...js } = z.toJSONSchema(s, { io, unrepresentable: 'any' });
      return js;
    } catch {
      return {};
    }
  };
  for (const r of routes) {
    const parameters: object[] = [];
    for (const name of Object.keys(r.params ?? {})) parameters.push({ name, in: 'path', required: true, schema: { type: 'string' } });
    if (r.query) {
      const js = toSchema(r.query) as { properties?: Record<string, object>; required?: string[] };
      for (const [name, schema] of Object.entries(js.properties ?? {})) parameters.push({ name, in: 'query', required: js.required?.includes(name) ?? false, schema });
    }
    const responses: Record<string, object> = {};
    // what mountRoutes answers for every route of its kind, whether or not the route lists it
    const implied: Record<number, string> = { 400: 'invalid request: unexpected or invalid query, path parameter or body' };
    if (r.body) {
      implied[413] = 'body larger than the limit';
      implied[415] = 'body in another media type than application/json';
    }
    implied[431] = 'request headers too large';
    if (r.access !== 'public') implied[401] = 'no or invalid token';
    if (Array.isArray(r.access)) implied[403] = `roles: ${r.access.join(', ')}`;
    for (const [status, description] of Object.entries({ ...implied, ...r.responses })) {
      const code = Number(status);
      if (code >= 300 && code < 400) {
        responses[status] = { description }; // redirects and 304 carry no body
        continue;
      }
      const content: Record<string, object> = {};
      if (code >= 400) content['application/json'] = { schema: { $ref: '#/components/schemas/Error' } };
      else {
        if (r.responseSchema || !r.produces) content['application/json'] = { schema: r.responseSchema ? toSchema(r.responseSchema, 'output') : {} };
        for (const [type, kind] of Object.entries(r.produces ?? {})) content[type] = { schema: kind === 'binary' ? { type: 'string', contentMediaType: type } : { type: 'string' } };
      }
      responses[status] = { description, content };
    }
    paths[r.path] ??= {};
    paths[r.path][r.method] = {
      summary: r.summary,
      ...(r.access === 'public' ? { security: [] } : { security: [{ bearer: [] }], 'x-roles': r.access === 'any' ? 'any' : r.access }),
      ...(parameters.length ? { parameters } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: toSchema(r.body) } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info,
    servers: [{ url: '/' }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} } } },
        },
      },
    },
    paths,
  };
}

export { express };
