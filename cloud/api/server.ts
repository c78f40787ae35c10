import type { AddressInfo } from 'node:net';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { z } from 'zod';
import {
  SessionOptionsSchema,
  SessionTable,
  type SessionBook,
  type SessionOptions,
  type UserBook,
} from '../accounts.js';
import type { BackfillReader } from '../alarms/backfills.js';
import type { AlarmReader } from '../alarms/store.js';
import type { Clock } from '../clock.js';
import type { CommandBook } from '../commands/store.js';
import type { AuthOptions } from '../guessing.js';
import { dashboard } from '../dashboard/plugin.js';
import type { Ingest, Via } from '../ingest/ingest.js';
import type { Keys } from '../ingest/tcp.js';
import { pathOnly } from '../redact.js';
import type { Registry } from '../registry.js';
import type { Packet } from '../../protocol/index.js';
import type { RuleEngine } from '../rules/engine.js';
import type { MarkStore } from '../marks.js';
import type { ShutdownBook } from '../shutdowns.js';
import type { RegistrationBook } from '../registrations.js';
import type { OmRecordBook } from '../om-records.js';
import type { InstrumentBook } from '../instruments.js';
import type { PlanBook } from '../plans.js';
import { ENTERPRISE_MARK_HOURS } from '../marks.js';
import type { SupervisionBook } from '../supervision.js';
import type { MeasurementStore } from '../store/types.js';
import type { AckBook, FollowUpBook } from './acks.js';
import { ApiTokenSchema, apiAuth, scopeGuard } from './auth.js';
import { errorHandling } from './errors.js';
import type { LiveHub } from './live.js';
import { swaggerOptions } from './openapi.js';
import { alarmsRoutes } from './routes/alarms.js';
import { commandsRoutes } from './routes/commands.js';
import { dataRoutes } from './routes/data.js';
import { eventsRoutes } from './routes/events.js';
import { historyRoutes } from './routes/history.js';
import { ingestRoutes, type IngestGauges } from './routes/ingest.js';
import { marksRoutes } from './routes/marks.js';
import { overviewRoutes } from './routes/overview.js';
import { ratesRoutes } from './routes/rates.js';
import { reportRoutes } from './routes/report.js';
import { sessionRoutes } from './routes/session.js';
import { shutdownsRoutes } from './routes/shutdowns.js';
import { registrationsRoutes } from './routes/registrations.js';
import { omRecordsRoutes } from './routes/om-records.js';
import { instrumentsRoutes } from './routes/instruments.js';
import { plansRoutes } from './routes/plans.js';
import { disclosureRoutes } from './routes/disclosure.js';
import { supervisionRoutes } from './routes/supervision.js';
import { jurisdictionsRoutes } from './routes/jurisdictions.js';
import { stationsRoutes } from './routes/stations.js';
import type { StationSerials } from '../serials.js';
import type { StationKeys } from '../keys.js';
import type { StationPasswords } from '../passwords.js';
import { usersRoutes } from './routes/users.js';

export type { IngestGauges } from './routes/ingest.js';

export const HttpOptionsSchema = z.strictObject({
  host: z.string().default('0.0.0.0'),
  port: z.number().int().min(0).max(65535).default(8212),
  /** Largest request body, bytes. */
  bodyLimit: z
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** Requests per second per token (or address), and the burst above it. */
  rate: z.number().positive().default(20),
  burst: z.number().int().min(1).default(100),
  tokens: z.array(ApiTokenSchema).min(1, 'give at least one API token (run `hj212 cloud token`)'),
  /** Login sessions of the people using the dashboard (accounts: `hj212 cloud user add`). */
  sessions: SessionOptionsSchema.prefault({}),
  /**
   * Public disclosure (信息公开): `/disclosure` pages and `/public/enterprises` JSON, no login, of the
   * enterprises with an approved monitoring plan. Off unless set: it opens data to anyone who can reach the port.
   */
  disclosure: z.boolean().default(false),
  /**
   * A CJK font file (.ttf, .otf, .ttc) the monitoring plans' PDF is set in; absent, the system's
   * (fonts-wqy-zenhei).
   */
  pdfFont: z.string().min(1).optional(),
  /** How long after an hour ends its enterprise may still mark it (数据标记); the platform's choice. */
  enterpriseMarkHours: z.number().positive().max(744).default(ENTERPRISE_MARK_HOURS),
});
export type HttpOptions = z.output<typeof HttpOptionsSchema>;

/** Everything the API's route plugins read and write; each plugin is handed only its part. */
export interface ApiContext {
  registry: () => Registry;
  store: MeasurementStore;
  alarms: AlarmReader;
  backfills: BackfillReader;
  rules: RuleEngine;
  ingest: Ingest;
  shutdowns: ShutdownBook;
  /**
   * Abnormal-operation registrations (不正常运行登记): submitted by enterprises, reviewed, approved ones
   * in force.
   */
  registrations: RegistrationBook;
  /** O&M records (运维记录) that explain flagged hours. */
  omRecords: OmRecordBook;
  /** The instrument register (仪器备案) and the analyzers' last reports. */
  instruments: InstrumentBook;
  /** Monitoring plans (自行监测方案) and manual results. */
  plans: PlanBook;
  /** A registration changed: the rules check the analyzer's last reports again (动态管控). */
  instrumentRegistered: (mn: string, factor: string) => void;
  /** Review marks (数据审核/标记) the rates, reports and history apply. */
  marks: MarkStore;
  /** Electronic supervision items (电子督办) and their steps. */
  supervision: SupervisionBook;
  codec: Keys;
  live: LiveHub;
  acks: AckBook;
  followUps: FollowUpBook;
  /** Requests sent to loggers from the API, with their answers. */
  commands: CommandBook;
  /** HJ 212-2025 station keys (1014 key changes). */
  keys: StationKeys;
  /** Station PWs set by the platform's 1072. */
  passwords: StationPasswords;
  /** Logger hardware serials the stations reported (HJ 212-2025 1001). */
  serials: StationSerials;
  /** The downlink router: sends to a station over the transport it last used; false if it is not reachable. */
  send: (mn: string, via: Via, packet: Packet) => boolean;
  /** Connections and queues of this process, for `GET /ingest/stats`. */
  gauges: () => IngestGauges | Promise<IngestGauges>;
  /** The accounts people log in with (state database; a cluster's PostgreSQL). */
  users: UserBook;
  /** Where login sessions are kept, given their options; absent: in this process's memory (SessionTable). */
  sessions?: (options: SessionOptions) => SessionBook;
  /** The guessing limits (config `auth`), applied to logins per user and per address. */
  guessing: AuthOptions;
  /** The service's clocks (rate limits run on `mono`); default the system's. */
  clock?: Clock;
}

/** The HTTP API as a fastify app; `/openapi.json` and the dashboard's static shell need no token. */
async function buildApi(opts: HttpOptions, ctx: ApiContext, log: Logger): Promise<FastifyInstance> {
  // Per-request logs are at info; at the ingest's rates they would drown the rejections that matter.
  // A request in a log line (fastify's own, e.g. of a 500) shows its path, never its query string.
  const serializers = {
    req: (req: { method: string; url: string; ip?: string }) => ({
      method: req.method,
      url: pathOnly(req.url),
      ip: req.ip,
    }),
  };
  const app = Fastify({
    loggerInstance: log.child({ part: 'api' }, { level: 'warn', serializers }) as FastifyBaseLogger,
    bodyLimit: opts.bodyLimit,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  errorHandling(app);
  // Fastify refuses an oversized body before any route runs and logs it at info: say it where operators look.
  app.addHook('onResponse', async (req, reply) => {
    if (reply.statusCode === 413)
      req.log.warn(
        { who: `addr:${req.ip}`, url: pathOnly(req.url), reason: 'body-too-large', limit: opts.bodyLimit },
        'request refused',
      );
  });
  // No browser may take an answer for something else than its declared type (JSON as a script, a CSV as HTML).
  app.addHook('onSend', async (_req, reply) => {
    reply.header('x-content-type-options', 'nosniff');
  });
  const mono = ctx.clock?.mono ?? (() => performance.now());
  const sessions = ctx.sessions ? ctx.sessions(opts.sessions) : new SessionTable(opts.sessions, mono);
  apiAuth(app, { ...opts, sessions, users: ctx.users }, mono);
  scopeGuard(app, ctx.registry);
  await app.register(swagger, swaggerOptions);
  app.get('/openapi.json', async () => app.swagger());

  const { registry, store, alarms, backfills, rules, ingest, shutdowns, codec, live, acks, gauges, commands, send } =
    ctx;
  const { marks } = ctx;
  const reportDeps = { registry, store, shutdowns, backfills, rules, marks, plans: ctx.plans };
  await app.register(sessionRoutes, {
    users: ctx.users,
    sessions,
    options: opts.sessions,
    guessing: ctx.guessing,
    mono,
    onLockout: (l) => rules.guessing(l),
  });
  await app.register(usersRoutes, { users: ctx.users, sessions, registry });
  await app.register(stationsRoutes, { registry, rules, alarms, live, serials: ctx.serials });
  await app.register(dataRoutes, { registry, store, backfills, ingest });
  await app.register(historyRoutes, { registry, store, marks, plans: ctx.plans });
  const wallNow = () => (ctx.clock?.wall ?? Date.now)();
  const enterpriseMarkHours = opts.enterpriseMarkHours;
  await app.register(marksRoutes, { registry, marks, live, now: wallNow, enterpriseMarkHours });
  await app.register(supervisionRoutes, { registry, supervision: ctx.supervision, alarms, live, now: wallNow });
  await app.register(jurisdictionsRoutes, { ...ctx, now: wallNow });
  await app.register(shutdownsRoutes, { registry, shutdowns });
  await app.register(plansRoutes, {
    registry,
    plans: ctx.plans,
    now: () => (ctx.clock?.wall ?? Date.now)(),
    ...(opts.pdfFont !== undefined && { pdfFont: opts.pdfFont }),
  });
  await app.register(instrumentsRoutes, {
    registry,
    instruments: ctx.instruments,
    onRegistered: ctx.instrumentRegistered,
    now: () => (ctx.clock?.wall ?? Date.now)(),
  });
  await app.register(omRecordsRoutes, {
    registry,
    omRecords: ctx.omRecords,
    store,
    shutdowns,
    now: () => (ctx.clock?.wall ?? Date.now)(),
  });
  await app.register(registrationsRoutes, {
    registry,
    registrations: ctx.registrations,
    live,
    now: () => (ctx.clock?.wall ?? Date.now)(),
  });
  if (opts.disclosure)
    await app.register(disclosureRoutes, {
      registry,
      store,
      plans: ctx.plans,
      marks,
      now: () => rules.now(),
    });
  await app.register(ratesRoutes, reportDeps);
  await app.register(reportRoutes, reportDeps);
  await app.register(alarmsRoutes, { registry, alarms, acks, followUps: ctx.followUps, live });
  await app.register(overviewRoutes, { ...reportDeps, alarms });
  await app.register(ingestRoutes, { registry, ingest, codec, gauges });
  await app.register(eventsRoutes, { registry, live });
  const wall = ctx.clock?.wall ?? Date.now;
  await app.register(commandsRoutes, {
    registry,
    commands,
    keys: ctx.keys,
    passwords: ctx.passwords,
    send,
    addressOf: (mn) => rules.addressOf(mn),
    now: () => wall(),
  });
  await dashboard(app);
  await app.ready();
  return app;
}

export async function startApi(
  opts: HttpOptions,
  ctx: ApiContext,
  log: Logger,
): Promise<{ app: FastifyInstance; address: AddressInfo }> {
  const app = await buildApi(opts, ctx, log);
  await app.listen({ host: opts.host, port: opts.port });
  return { app, address: app.server.address() as AddressInfo };
}
