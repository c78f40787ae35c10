import createError from '@fastify/error';
import type { FastifyError, FastifyInstance, FastifySchemaValidationError } from 'fastify';
import { z } from 'zod';
import { pathOnly } from '../redact.js';

/**
 * Every error the API answers with, by code (docs/cloud.md "HTTP API errors"). The body is always
 * `{statusCode, code, error, message}` (plus `retryAfterMs` on a 429), the message naming the field
 * at fault and what to do about it. Fastify's own refusals (a body too large, an unsupported media
 * type, JSON that does not parse) keep their FST_ codes and messages.
 */
export const ApiErrors = {
  /** A request's params, query or body do not match its schema: every field at fault, each with its fix. */
  BadRequest: createError<[string]>('API_BAD_REQUEST', '%s', 400),
  NoToken: createError('API_NO_TOKEN', 'give an API token: Authorization: Bearer TOKEN', 401),
  Role: createError<[string, string, string]>('API_ROLE', 'this needs the %s role; %s has %s', 403),
  /** A session cookie that is unknown, expired or idle too long (or whose user was removed). */
  NoSession: createError('API_NO_SESSION', 'the session has ended: log in again (POST /session/login)', 401),
  /** A state-changing request carried by a session cookie without the proof it comes from the dashboard itself. */
  Csrf: createError(
    'API_CSRF',
    'a request with a session cookie that changes something needs the header X-Requested-With ' +
      '(and an Origin of this host, if any)',
    403,
  ),
  /** Wrong user name or password; which of the two is not said. */
  BadLogin: createError('API_BAD_LOGIN', 'user name or password is wrong', 401),
  LockedOut: createError<[number]>(
    'API_LOCKED_OUT',
    'too many failed logins for this user or from this address: try again in %d s',
    429,
  ),
  LoginBusy: createError('API_LOGIN_BUSY', 'too many logins are being checked at once: try again', 503),
  WeakPassword: createError<[string]>('API_WEAK_PASSWORD', 'body.password: %s', 400),
  UserExists: createError<[string]>('API_USER_EXISTS', 'body.name: a user %s exists already (PUT its password)', 409),
  NoUser: createError<[string]>('API_NO_USER', 'params.name: no user %s (GET /users lists them)', 404),
  NoRoute: createError<[string, string]>('API_NO_ROUTE', 'no route %s %s: GET /openapi.json lists them', 404),
  NoStation: createError<[string]>(
    'API_NO_STATION',
    'params.mn: no station with MN %s in the registry (GET /stations lists them)',
    404,
  ),
  /**
   * The station (or enterprise) is outside what the account sees: an enterprise user sees its own
   * enterprise, an authority its region (scope.ts). Said as 403, not 404: the registry is no secret, its data is.
   */
  OutOfScope: createError<[string, string]>('API_OUT_OF_SCOPE', '%s is not yours to see or change: %s', 403),
  /**
   * Managing accounts, or reviewing others' submissions, is the centre's or an authority's work, not an
   * enterprise's.
   */
  CentreOnly: createError<[string]>('API_CENTRE_ONLY', '%s', 403),
  /** The plan's PDF needs a CJK font, and the machine has none the export knows (cloud/api/plan-pdf.ts). */
  NoPdfFont: createError(
    'API_NO_PDF_FONT',
    'the PDF export needs a Chinese font: install fonts-wqy-zenhei (Debian) ' +
      'or set http.pdfFont to a .ttf, .otf or .ttc file',
    503,
  ),
  /** A public disclosure of an enterprise the registry does not have, or with no approved monitoring plan. */
  NotDisclosed: createError<[string]>(
    'API_NOT_DISCLOSED',
    'params.enterprise: %s discloses nothing: no such enterprise in the registry, or no monitoring plan of it ' +
      'approved (GET /public/enterprises lists those that do)',
    404,
  ),
  NoAlarm: createError<[number]>('API_NO_ALARM', 'params.id: no alarm %d (GET /alarms lists them)', 404),
  NoCommand: createError<[number]>(
    'API_NO_COMMAND',
    'params.id: no command %d (GET /stations/:mn/commands lists them)',
    404,
  ),
  NoMark: createError<[number, string]>(
    'API_NO_MARK',
    'params.id: no mark %d in force at %s (GET /stations/:mn/marks/audit lists them)',
    404,
  ),
  NoRegistration: createError<[number]>(
    'API_NO_REGISTRATION',
    'params.id: no registration %d (GET /registrations lists them)',
    404,
  ),
  /** A registration is reviewed once: approved or rejected, it stays so (submit a new one to change it). */
  Reviewed: createError<[number, string, string]>(
    'API_REVIEWED',
    'registration %d was %s by %s already: an enterprise submits a new one to change it',
    409,
  ),
  NoPlan: createError<[number]>('API_NO_PLAN', 'params.id: no monitoring plan %d (GET /plans lists them)', 404),
  /** Manual results and completion need an approved plan: submit one and have it reviewed. */
  NoPlanInForce: createError<[string]>(
    'API_NO_PLAN_IN_FORCE',
    'no approved monitoring plan at %s: submit one (POST /stations/:mn/plans) and have the authority review it',
    409,
  ),
  PlanReviewed: createError<[number, string]>(
    'API_PLAN_REVIEWED',
    'plan %d was %s already: submit a new one to change it',
    409,
  ),
  NotManual: createError<[string, number]>(
    'API_NOT_MANUAL',
    'body.factor: %s is no manual item of the plan in force (%d): results are entered for its manual items',
    400,
  ),
  ResultExists: createError<[string, string]>(
    'API_RESULT_EXISTS',
    'body.time: a result of %s sampled at %s is entered already',
    409,
  ),
  NoAttachment: createError<[number]>('API_NO_ATTACHMENT', 'plan %d has no signed attachment yet', 404),
  /** A mark naming a factor the outlet does not measure. */
  NoFactor: createError<[string, string]>(
    'API_NO_FACTOR',
    'body.factor: %s is not a factor of %s (leave it out to mark every factor)',
    400,
  ),
  /** A route's `:factor` the outlet does not measure. */
  NoFactorParam: createError<[string, string]>(
    'API_NO_FACTOR_PARAM',
    'params.factor: %s is not a factor of %s (GET /stations lists each station’s factors)',
    404,
  ),
  /**
   * An enterprise marks its own hours only within the platform's window after each hour (config
   * `http.enterpriseMarkHours`); later, the centre or the authority marks them.
   */
  MarkLate: createError<[number, string, string]>(
    'API_MARK_LATE',
    'body.from: an enterprise marks an hour within %d h after it ends (config http.enterpriseMarkHours); ' +
      'the hour of %s could be marked until %s: ask the centre or the authority of the station to mark it',
    403,
  ),
  NoSupervision: createError<[number]>(
    'API_NO_SUPERVISION',
    'params.id: no supervision item %d (GET /supervision lists them)',
    404,
  ),
  /** A step of the 督办 workflow the item's state does not allow (e.g. answering an accepted item). */
  SupervisionState: createError<[number, string, string]>(
    'API_SUPERVISION_STATE',
    'supervision item %d is %s: %s',
    409,
  ),
  /** An item for the same alarm is still open: follow that one. */
  SupervisionExists: createError<[number, number]>(
    'API_SUPERVISION_EXISTS',
    'body.alarmId: alarm %d is sent already as supervision item %d, still open: follow that one (GET /supervision/:id)',
    409,
  ),
  /** What only the enterprise of the station does: answering a supervision item. */
  EnterpriseOnly: createError<[string]>('API_ENTERPRISE_ONLY', '%s', 403),
  NoSupervisionAttachment: createError<[number, number]>(
    'API_NO_SUPERVISION_ATTACHMENT',
    'params.n: supervision item %d has no attachment %d (GET /supervision/:id lists its answers’ attachments)',
    404,
  ),
  /** The request is recorded (state not-connected) but could not go out: the station's logger is not reachable. */
  NotConnected: createError<[string, string]>(
    'API_NOT_CONNECTED',
    'params.mn: the logger of %s is not connected (%s); the request is recorded as not-connected',
    503,
  ),
  /** A 1014 key change asked for a station that has no SM4 key to replace. */
  NoKey: createError<[string]>(
    'API_NO_KEY',
    'params.mn: %s is no HJ 212-2025 station with an SM4 key (registry version: "2025" and sm4Key): no key to change',
    409,
  ),
  RateLimited: createError<[number]>('API_RATE_LIMITED', 'rate limited: try again in %d ms', 429),
  StoreRefused: createError('API_STORE_REFUSED', 'the store refused the data; try again', 503),
  Internal: createError('API_INTERNAL', 'internal error; the server log has the details', 500),
} as const;

/** Answers of 500 and above that are the peer's state, not a fault of ours: sent as they are. */
const EXPECTED_5XX = new Set(['API_STORE_REFUSED', 'API_NOT_CONNECTED', 'API_LOGIN_BUSY', 'API_NO_PDF_FONT']);

/** The body of every error answer. */
export const ErrorBodySchema = z.object({
  statusCode: z.number().int(),
  code: z.string(),
  error: z.string(),
  message: z.string(),
  retryAfterMs: z.number().optional(),
});
export type ErrorBody = z.output<typeof ErrorBodySchema>;

const PHRASES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Where a validation error was found, as the request names it: `params`, `query`, `body`, `headers`. */
const PART: Record<string, string> = { querystring: 'query' };

/** "query.kind: Invalid option…; query.from: Invalid input" — every field at fault, as the config errors read. */
export function validationMessage(errors: readonly FastifySchemaValidationError[], context: string): string {
  const where = PART[context] ?? context;
  return errors
    .map((e) => `${[where, ...e.instancePath.split('/').filter((s) => s !== '')].join('.')}: ${e.message ?? 'invalid'}`)
    .join('; ');
}

/** One handler for every error the API answers, and one for a route that does not exist. */
export function errorHandling(app: FastifyInstance): void {
  app.setSchemaErrorFormatter((errors, context) => new ApiErrors.BadRequest(validationMessage(errors, context)));
  app.setNotFoundHandler(async (req) => {
    throw new ApiErrors.NoRoute(req.method, pathOnly(req.url));
  });
  app.setErrorHandler(async (err: FastifyError & { retryAfterMs?: number }, req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500 && !EXPECTED_5XX.has(err.code)) {
      req.log.error({ err, reason: err.code ?? 'internal', url: pathOnly(req.url) }, 'request failed');
      const internal = new ApiErrors.Internal();
      return reply.code(500).send(body(internal.statusCode!, internal.code, internal.message));
    }
    if (err.retryAfterMs !== undefined) reply.header('retry-after', Math.ceil(err.retryAfterMs / 1000));
    return reply.code(status).send({
      ...body(status, err.code ?? 'API_ERROR', err.message),
      ...(err.retryAfterMs !== undefined && { retryAfterMs: err.retryAfterMs }),
    });
  });
}

const body = (statusCode: number, code: string, message: string): ErrorBody => ({
  statusCode,
  code,
  error: PHRASES[statusCode] ?? 'Error',
  message,
});

/** A 429 that says when to come back (the `retry-after` header in seconds, `retryAfterMs` in the body). */
export function rateLimited(waitMs: number): Error {
  return Object.assign(new ApiErrors.RateLimited(Math.ceil(waitMs)), { retryAfterMs: waitMs });
}
