import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';

export type Role = 'read' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The least role a token needs for this route; absent: public. */
    role?: Role;
  }
}

/** The OpenAPI document, filled in as routes are registered from their zod schemas. */
export interface OpenApiDoc {
  openapi: '3.1.0';
  info: { title: string; version: string };
  components: { securitySchemes: Record<string, unknown> };
  paths: Record<string, Record<string, unknown>>;
}

export function newOpenApi(): OpenApiDoc {
  return {
    openapi: '3.1.0',
    info: { title: 'hj212 cloud', version: '1' },
    components: {
      securitySchemes: { token: { type: 'http', scheme: 'bearer', description: 'API token; role read or admin' } },
    },
    paths: {},
  };
}

export interface RouteDef<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  method: 'GET' | 'POST';
  url: string;
  role: Role;
  summary: string;
  params?: P;
  query?: Q;
  body?: B;
  /** Content type of a body that is not JSON. */
  bodyType?: string;
}

export interface Input<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  params: z.output<P>;
  query: z.output<Q>;
  body: z.output<B>;
}

const json = (s: z.ZodType): unknown => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
};

function parameters(where: 'path' | 'query', s: z.ZodType | undefined): unknown[] {
  if (!s) return [];
  const schema = json(s) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(schema.properties ?? {}).map(([name, p]) => ({
    name,
    in: where,
    required: where === 'path' || (schema.required ?? []).includes(name),
    schema: p,
  }));
}

/** 400 with every field at fault and what to fix. */
class BadRequest extends Error {
  readonly statusCode = 400;
}

function parse<T extends z.ZodType>(s: T | undefined, value: unknown, where: string): z.output<T> {
  if (!s) return undefined as z.output<T>;
  const r = s.safeParse(value);
  if (!r.success)
    throw new BadRequest(r.error.issues.map((i) => `${[where, ...i.path].join('.')}: ${i.message}`).join('; '));
  return r.data;
}

/**
 * Registers a route whose params, query and body are zod schemas: they validate the request (so a
 * 400 names the field, as the registry and config errors do) and document it in the OpenAPI file.
 */
export function route<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
  app: FastifyInstance,
  doc: OpenApiDoc,
  def: RouteDef<P, Q, B>,
  handler: (input: Input<P, Q, B>, req: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
): void {
  const path = def.url.replace(/:(\w+)/g, '{$1}');
  const op: Record<string, unknown> = {
    summary: def.summary,
    security: [{ token: [] }],
    'x-role': def.role,
    parameters: [...parameters('path', def.params), ...parameters('query', def.query)],
    responses: {
      '200': { description: 'OK' },
      '400': { description: 'invalid request: the fields at fault' },
      '401': { description: 'no or unknown token' },
      '403': { description: 'role too low' },
      '429': { description: 'rate limited' },
    },
  };
  if (def.body)
    op['requestBody'] = {
      required: true,
      content: { [def.bodyType ?? 'application/json']: { schema: json(def.body) } },
    };
  (doc.paths[path] ??= {})[def.method.toLowerCase()] = op;
  app.route({
    method: def.method,
    url: def.url,
    config: { role: def.role },
    handler: async (req, reply) =>
      handler(
        {
          params: parse(def.params, req.params, 'params'),
          query: parse(def.query, req.query, 'query'),
          body: parse(def.body, req.body, 'body'),
        },
        req,
        reply,
      ),
  });
}
