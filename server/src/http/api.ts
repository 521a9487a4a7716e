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
          const b = r.body.safeParse(req.body ?? {});
          if (!b.success) throw validationError(b.error, 'body');
          body = b.data;
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
    if (r.body) implied[413] = 'body larger than the limit';
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
