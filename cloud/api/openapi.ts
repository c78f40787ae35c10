import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import type { OpenAPIV3_1 } from 'openapi-types';
import { z } from 'zod';
import { SESSION_COOKIE } from '../accounts.js';
import { ErrorBodySchema } from './errors.js';

const errorJson = (description: string): Record<string, unknown> => {
  const { $schema: _drop, ...schema } = z.toJSONSchema(ErrorBodySchema) as Record<string, unknown>;
  return { ...schema, description };
};

/** Every route with a role can refuse the same way; the codes are in docs/cloud.md. */
const REFUSALS = {
  400: errorJson('invalid request: every field at fault, each with its fix (API_BAD_REQUEST)'),
  401: errorJson('no or unknown token (API_NO_TOKEN), or the session has ended (API_NO_SESSION)'),
  403: errorJson('role too low (API_ROLE), or a cookie request without X-Requested-With (API_CSRF)'),
  429: errorJson('rate limited (API_RATE_LIMITED, with retry-after)'),
};

/** A route with a role takes either an API token or a login session. */
const SECURITY: { [scheme: string]: string[] }[] = [{ token: [] }, { session: [] }];

/** Path parameters first, as the URL reads, then the query's in the order its schema declares them. */
function pathParamsFirst(doc: OpenAPIV3_1.Document): OpenAPIV3_1.Document {
  for (const item of Object.values(doc.paths ?? {}))
    for (const op of Object.values(item ?? {}))
      if (typeof op === 'object' && op !== null && 'parameters' in op && Array.isArray(op.parameters))
        op.parameters.sort((a, b) => Number(!('in' in a) || a.in !== 'path') - Number(!('in' in b) || b.in !== 'path'));
  return doc;
}

/**
 * `/openapi.json` from the routes' own zod schemas. Routes without a role (the dashboard's static shell,
 * this document) are not API and are left out, but for the public API ones (`config.api`: the login);
 * each route's role is `x-role`.
 */
export const swaggerOptions: FastifyDynamicSwaggerOptions = {
  openapi: {
    openapi: '3.1.0',
    info: { title: 'hj212 cloud', version: '1' },
    components: {
      securitySchemes: {
        token: { type: 'http', scheme: 'bearer', description: 'API token (machines); role read, operator or admin' },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: SESSION_COOKIE,
          description: 'login session (POST /session/login); state-changing requests also need X-Requested-With',
        },
      },
    },
  },
  transform: (input) => {
    const role = input.route.config?.role;
    if (role === undefined && input.route.config?.api !== true) return { schema: { hide: true }, url: input.url };
    const { schema, url } = jsonSchemaTransform(input);
    if (role === undefined) return { schema: { ...schema, security: [], 'x-role': 'none' }, url };
    const response = { ...(schema.response as Record<string, unknown> | undefined), ...REFUSALS };
    // Who beyond the role: the centre alone, or the centre and authorities (an enterprise user is refused).
    const { centre, reviewer } = input.route.config ?? {};
    const only = centre !== undefined ? 'centre' : reviewer !== undefined ? 'centre, authority' : undefined;
    return {
      schema: { ...schema, response, security: SECURITY, 'x-role': role, ...(only && { 'x-scope': only }) },
      url,
    };
  },
  transformObject: (doc) => pathParamsFirst((doc as { openapiObject: OpenAPIV3_1.Document }).openapiObject),
};
