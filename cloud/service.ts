import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { encodeFrame, type Packet } from '../protocol/index.js';
import { Lifecycle } from '../runtime/lifecycle.js';
import { UserStore, type SessionBook, type SessionOptions, type UserBook } from './accounts.js';
import { AckStore } from './api/acks.js';
import { LiveHub } from './api/live.js';
import { startApi, type ApiContext } from './api/server.js';
import { eventMessage, makeNotifier } from './alarms/notify.js';
import { BackfillStore } from './alarms/backfills.js';
import { AlarmStore } from './alarms/store.js';
import { WebhookOutbox } from './alarms/webhooks.js';
import { PgWebhookOutbox } from './alarms/pg-webhooks.js';
import { Authenticator } from './auth.js';
import { CommandStore, type CommandBook } from './commands/store.js';
import { PgCommandStore } from './state/pg-commands.js';
import { PgLiveRelay } from './state/pg-live.js';
import { PgStateTable, type StateTableName } from './state/station-state.js';
import { systemClock, watchClockSteps, type Clock } from './clock.js';
import { StationKeys } from './keys.js';
import { joinRelay, memberOf, type ClusterOptions, type Relay } from './cluster.js';
import { PgAlarmStore } from './alarms/pg-store.js';
import type { AlarmReader } from './alarms/store.js';
import type { BackfillReader } from './alarms/backfills.js';
import type { AckBook, FollowUpBook } from './api/acks.js';
import { Leases } from './state/leases.js';
import { PgRuleState } from './state/pg-rule-state.js';
import { migrate, openPg } from './state/pg-schema.js';
import { loadRegistry, watchPgRegistry } from './state/pg-registry.js';
import { PgAckStore, PgBackfillStore, PgFollowUpStore, PgShutdownStore } from './state/pg-stores.js';
import { PgSessionStore, PgUserStore } from './state/pg-accounts.js';
import { PgMarkStore, PgOmRecordStore, PgPlanStore, PgRegistrationStore } from './state/pg-enterprise.js';
import { PgSupervisionStore } from './state/pg-enterprise.js';
import type pg from 'pg';
import type { CloudConfig } from './config.js';
import { Ingest, type Via } from './ingest/ingest.js';
import { downTopic } from '../protocol/wire.js';
import { connectExternalBroker, startEmbeddedBroker, type MqttInput } from './ingest/mqtt.js';
import { TcpListener } from './ingest/tcp.js';
import { Registry } from './registry.js';
import { fileError, listenError } from './startup-errors.js';
import { RuleEngine } from './rules/engine.js';
import { SqliteMarkStore, type MarkStore } from './marks.js';
import { StationSerials } from './serials.js';
import { StationPasswords } from './passwords.js';
import { ShutdownStore, type ShutdownBook } from './shutdowns.js';
import { RegistrationStore, type RegistrationBook } from './registrations.js';
import { OmRecordStore, type OmRecordBook } from './om-records.js';
import { InstrumentStore } from './instruments.js';
import { PgInstrumentStore } from './state/pg-instruments.js';
import { PlanStore, type PlanBook } from './plans.js';
import { SupervisionStore, type SupervisionBook } from './supervision.js';
import { InfluxStore } from './store/influx.js';
import { openSqlite, SqliteStore } from './store/sqlite.js';
import type { MeasurementStore } from './store/types.js';
import { watchRegistry } from './watch.js';

/** A running cloud ingest. */
export interface Cloud {
  registry(): Registry;
  ingest: Ingest;
  store: MeasurementStore;
  alarms: AlarmStore;
  backfills: BackfillStore;
  rules: RuleEngine;
  shutdowns: ShutdownBook;
  /**
   * Issues station `mn` a new SM4 key (HJ 212-2025 1014 from the platform) over the transport it last
   * used (TCP or MQTT); false when it is no keyed 2025 station, has not spoken since the start, or is not
   * connected. The API's `POST /stations/:mn/key` does the same and records the request.
   */
  changeKey(mn: string): boolean;
  tcp?: { address: AddressInfo; listener: TcpListener };
  mqtt?: MqttInput;
  http?: { address: AddressInfo; app: FastifyInstance };
  stop(): Promise<void>;
}

/** Options a config file cannot express. */
export interface CloudOptions {
  /** The rules' clock (ms since epoch); the demo passes its simulators' warped one, so an hour takes a minute. */
  now?: () => number;
  /** Wall and monotonic clocks (tests step the wall clock); default the system's. */
  clock?: Clock;
}

/** Opens a database file, or says which config field to fix and how. */
function opened<T>(field: string, file: string, open: () => T): T {
  try {
    return open();
  } catch (e) {
    throw fileError(field, file, e);
  }
}

/** Starts a listener, or says which config field to fix and how. */
async function listening<T>(field: string, at: { host: string; port: number }, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (e) {
    throw listenError(field, at.host, at.port, e);
  }
}

/**
 * Calls to a part that starts in a later boot phase (the rules, fed by transports that start before
 * them): held until the part is handed over, then made in order, so a packet that comes in between
 * a listener opening and the rules phase is still seen by the rules.
 */
class Handover<T> {
  #target: T | undefined;
  readonly #held: ((target: T) => void)[] = [];

  call(f: (target: T) => void): void {
    if (this.#target !== undefined) f(this.#target);
    else this.#held.push(f);
  }

  attach(target: T): void {
    this.#target = target;
    for (const f of this.#held.splice(0)) f(target);
  }
}

/** One boot phase's parts and how to close them (every part it started, last first). */
type Phase<T> = T & { close(): Promise<void> };

/**
 * Runs a phase's `start` with its own lifecycle: what it started before failing is closed before the
 * error goes on, and the parts it returns close in reverse order of starting.
 */
async function phase<T extends object>(log: Logger, start: (life: Lifecycle) => Promise<T>): Promise<Phase<T>> {
  const life = new Lifecycle({ log });
  try {
    return { ...(await start(life)), close: () => life.close() };
  } catch (e) {
    await life.close();
    throw e;
  }
}

/** What the processes of a cluster share in PostgreSQL, as the API reads it. */
interface Shared {
  alarms: AlarmReader;
  acks: AckBook;
  followUps: FollowUpBook;
  backfills: BackfillReader;
  /** Dashboard accounts; a cluster's login sessions too (absent: each process's own, in memory). */
  users: UserBook;
  sessions?: (options: SessionOptions) => SessionBook;
}

/**
 * The records enterprises, O&M companies and authorities keep through the API: a cluster's in
 * PostgreSQL.
 */
interface EnterpriseRecords {
  marks: MarkStore;
  registrations: RegistrationBook;
  omRecords: OmRecordBook;
  plans: PlanBook;
  supervision: SupervisionBook;
}

/**
 * A cluster's PostgreSQL: connected and migrated to the schema this hj212 knows, or a startup error
 * naming the field.
 */
async function startPostgres(c: ClusterOptions, log: Logger, life: Lifecycle): Promise<pg.Pool> {
  const pool = openPg(c.postgres, c.poolSize, log);
  life.add('PostgreSQL', () => pool.end());
  try {
    const applied = await migrate(pool);
    if (applied.length) log.info({ applied }, 'PostgreSQL schema migrated');
  } catch (e) {
    throw new Error(
      `cluster.postgres: ${(e as Error).message}: check the URL, that the server runs and the role may create tables`,
      { cause: e },
    );
  }
  return pool;
}

/** Phase 1: the registry (reloaded on change), station authentication and every store. */
function startCore(config: CloudConfig, log: Logger, clock: Clock, rules: Handover<RuleEngine>) {
  return phase(log, async (life) => {
    const pool = config.cluster && (await startPostgres(config.cluster, log, life));
    const fromPostgres = pool && config.cluster?.registry === 'postgres' ? pool : undefined;
    let registry = fromPostgres ? await loadRegistry(fromPostgres) : await Registry.load(config.registry);
    const auth = new Authenticator(registry, {
      options: config.auth,
      clock,
      onLockout: (l) => {
        log.warn(
          { mn: l.mn, addr: l.addr, key: l.key, failures: l.failures, reason: 'password-guessing' },
          'login locked out',
        );
        rules.call((r) => r.guessing(l));
      },
    });
    life.add('clock watch', watchClockSteps(clock, log));
    const reload = (r: Registry): void => {
      registry = r;
      auth.use(r);
    };
    life.add(
      'registry watch',
      fromPostgres
        ? watchPgRegistry(fromPostgres, config.cluster!.registryPollSeconds * 1000, reload, log)
        : watchRegistry(config.registry, reload, log),
    );
    const s = config.store;
    const store: MeasurementStore = opened('store.path', s.type === 'sqlite' ? s.path : s.spillPath, () =>
      s.type === 'sqlite' ? SqliteStore.open(s.path) : new InfluxStore(s, log),
    );
    life.add('store', () => store.close());
    const stateDb = opened('state', config.state, () => openSqlite(config.state));
    life.add('state database', () => stateDb.close());
    // A key a 1014 issued (state database) overrides the registry's; otherwise whatever registry is in
    // force when a frame comes has the key. A keyed 2025 station's data in clear text is refused
    // (unencrypted-cp), not stored as if it were its own.
    // A cluster's requests to loggers are in PostgreSQL: made through one process, answered through any.
    let commands: CommandBook = new CommandStore(stateDb);
    if (pool) {
      const pgCommands = new PgCommandStore(pool, log);
      await pgCommands.start();
      life.add('commands (PostgreSQL)', () => pgCommands.stop());
      commands = pgCommands;
    }
    // A cluster's keys (1014) and PWs (1072) are in PostgreSQL, each process holding them in memory and
    // hearing the others' changes: a change sent through one process is confirmed by whichever gets the 9012.
    const table = async (name: StateTableName) => {
      if (!pool) return stateDb;
      const t = await PgStateTable.open(pool, name, log);
      life.add(name, () => t.close());
      return t;
    };
    // A PW the platform's 1072 set (once the logger's 9012 confirmed it) is checked before the registry's.
    const passwords = new StationPasswords(await table('station_passwords'), {
      now: clock.wall,
      graceMs: config.keyGraceSeconds * 1000,
      log,
    });
    auth.usePasswords(passwords);
    const keys = new StationKeys({
      db: await table('station_keys'),
      registry: () => registry,
      now: clock.wall,
      graceMs: config.keyGraceSeconds * 1000,
      qn: (mn, at) => commands.nextQn(mn, at),
      log,
    });
    const codec = { sm4Key: keys.sm4Key, sm4DecodeKeys: keys.sm4DecodeKeys, clearCp: 'refuse' as const };
    const webhooks = new WebhookOutbox(stateDb, {
      urls: config.rules.webhooks,
      retryHours: config.rules.webhookRetryHours,
      log,
    });
    life.add('webhooks', () => webhooks.stop());
    const alarms = new AlarmStore(stateDb);
    const acks = new AckStore(stateDb);
    const backfills = new BackfillStore(stateDb);
    // Shutdown windows registered through the API, as every process of a cluster reads them (the rules'
    // missing hours).
    const localShutdowns = new ShutdownStore(stateDb);
    const shutdowns: ShutdownBook = pool ? new PgShutdownStore(pool) : localShutdowns;
    const records: EnterpriseRecords = pool
      ? {
          marks: new PgMarkStore(pool),
          registrations: new PgRegistrationStore(pool),
          omRecords: new PgOmRecordStore(pool),
          plans: new PgPlanStore(pool),
          supervision: new PgSupervisionStore(pool),
        }
      : {
          marks: new SqliteMarkStore(stateDb),
          registrations: new RegistrationStore(stateDb, localShutdowns),
          omRecords: new OmRecordStore(stateDb),
          plans: new PlanStore(stateDb),
          supervision: new SupervisionStore(stateDb),
        };
    const shared: Shared = pool
      ? {
          alarms: new PgAlarmStore(pool),
          acks: new PgAckStore(pool),
          followUps: new PgFollowUpStore(pool),
          backfills: new PgBackfillStore(pool),
          users: new PgUserStore(pool),
          sessions: (o) => new PgSessionStore(pool, o),
        }
      : { alarms, acks, followUps: acks.followUps, backfills, users: new UserStore(stateDb, clock.wall) };
    // A cluster's webhook events are queued in PostgreSQL with the change that raised them, and posted
    // by one process at a time per receiver (cloud/alarms/pg-webhooks.ts).
    const pgWebhooks =
      pool &&
      new PgWebhookOutbox(pool, { urls: config.rules.webhooks, retryHours: config.rules.webhookRetryHours, log });
    if (pgWebhooks) life.add('webhooks (PostgreSQL)', () => pgWebhooks.stop());
    // The dashboards on every process of a cluster hear what any of them learns.
    const live = new LiveHub();
    if (pool) {
      const relay = await PgLiveRelay.open(pool, live, log);
      live.relayTo(relay);
      life.add('live relay', () => relay.close());
    }
    return {
      ...(pool && { pool }),
      ...(pgWebhooks && { pgWebhooks }),
      shared,
      registry: () => registry,
      auth,
      codec,
      keys,
      store,
      alarms,
      commands,
      serials: new StationSerials(stateDb, log),
      passwords,
      shutdowns,
      ...records,
      // A cluster's register is in PostgreSQL: registered through one process, checked on any.
      instruments: pool ? new PgInstrumentStore(pool) : new InstrumentStore(stateDb),
      backfills,
      live,
      webhooks,
    };
  });
}
type Core = Awaited<ReturnType<typeof startCore>>;

/**
 * Phase 2: the ingest path and what feeds it: the HJ 212 TCP listener, the cluster's relay of
 * requests to TCP loggers connected to another process, and the MQTT input.
 */
function startTransports(
  config: CloudConfig,
  log: Logger,
  now: () => number,
  clock: Clock,
  core: Core,
  rules: Handover<RuleEngine>,
) {
  return phase(log, async (life) => {
    const ingest = new Ingest({
      auth: core.auth,
      now,
      limits: config.ingest,
      store: core.store,
      log,
      qn: (mn, at) => core.commands.nextQn(mn, at),
      serials: core.serials,
      onPacket: (st, p, via) => {
        // An answer to a request sent from the API (9011, 9012, the data it asked for) goes to its record too.
        // The station page shows its requests' states: it re-reads them on this event.
        const answered = core.commands.answer(st.mn, p, clock.wall());
        const changed = () => core.live.publish({ type: 'command', mn: st.mn });
        if (answered instanceof Promise)
          answered.then(
            (yes) => yes && changed(),
            (e: Error) => log.error({ mn: st.mn, reason: e.message }, 'answer to a request not recorded'),
          );
        else if (answered) changed();
        core.passwords.onPacket(st, p);
        // 动态管控: an analyzer's id (3019) or parameters (3020) against the instrument register.
        rules.call((r) => r.instrumentReport(st, p));
        // A logger's own 1014 is answered with the centre's 1014 carrying the key, over the transport it
        // came by: on TCP once the listener knows the connection of this MN (it learns it when accept returns).
        const keyRequest = core.keys.onPacket(st.mn, p);
        if (keyRequest)
          setImmediate(() => {
            if (!sendBack(st.mn, via, keyRequest)) core.keys.withdraw(st.mn, keyRequest.qn!);
          });
        rules.call((r) => void r.onPacket(st, p, via));
      },
      onStored: (st, points) => {
        rules.call((r) => void r.onStored(st, points));
        core.live.stored(st, points);
      },
    });
    const tcp = config.tcp && new TcpListener(config.tcp, ingest, log, core.codec, clock.mono);
    /** A packet back to a station over the transport one of its packets just came by (here, or MQTT's broker). */
    const sendBack = (mn: string, via: Via, packet: Packet): boolean => {
      if (via === 'tcp') return tcp?.send(mn, packet) ?? false;
      if (via !== 'mqtt' || !mqtt) return false;
      mqtt
        .publish(downTopic(mn), encodeFrame(packet, core.codec))
        .catch((e: Error) => log.warn({ mn, reason: e.message }, 'MQTT request not sent'));
      return true;
    };
    let relay: Relay | undefined;
    if (config.cluster && config.mqtt?.mode === 'external') {
      relay = await joinRelay({
        member: memberOf(config.cluster),
        mqtt: config.mqtt,
        sendTcp: (mn, packet) => tcp?.send(mn, packet) ?? false,
        log,
      });
      life.add('cluster channel', relay.close.bind(relay));
    }
    let tcpAt: AddressInfo | undefined;
    if (config.tcp && tcp) {
      life.add('HJ 212 TCP', () => tcp.close());
      tcpAt = await listening('tcp', config.tcp, () => tcp.listen());
      log.info({ port: tcpAt.port }, 'HJ 212 TCP listening');
    }
    let mqtt: MqttInput | undefined;
    if (config.mqtt) {
      const m = config.mqtt;
      const { auth, codec } = core;
      const alarmTopic = config.rules.alarmTopic;
      mqtt =
        m.mode === 'embedded'
          ? await listening('mqtt', m, () => startEmbeddedBroker(m, auth, ingest, log, codec, alarmTopic))
          : await connectExternalBroker(m, ingest, log, codec);
      life.add('MQTT', mqtt.close.bind(mqtt));
    }
    return { ingest, relay, mqtt, ...(tcp && tcpAt && { tcp: { address: tcpAt, listener: tcp } }) };
  });
}
type Transports = Awaited<ReturnType<typeof startTransports>>;

/** Requests back to a logger (the rules' 2061 for a missing hour, an API command). */
export interface Downlink {
  /**
   * Sends `packet` to station `mn` over the transport it last used: its TCP connection here (or,
   * in a cluster, on whichever node holds it), or its MQTT down topic; false if it is not reachable.
   */
  send(mn: string, via: Via, packet: Packet): boolean;
}

/** Phase 3: the downlink router over the transports. */
function downlinkRouter(t: Transports, codec: Core['codec'], log: Logger): Downlink {
  return {
    send(mn, via, packet) {
      if (via === 'tcp') return t.relay ? t.relay.relay(mn, packet) : (t.tcp?.listener.send(mn, packet) ?? false);
      if (via !== 'mqtt' || !t.mqtt) return false;
      // A device away from the embedded broker: a request held for it would come after its deadline.
      if (t.mqtt.connected && !t.mqtt.connected(mn)) return false;
      t.mqtt
        .publish(downTopic(mn), encodeFrame(packet, codec))
        .catch((e: Error) => log.warn({ mn, reason: e.message }, 'MQTT request not sent'));
      return true;
    },
  };
}

/**
 * Phase 4: the rule engine (alarms to webhooks, the alarm topic and live views), started last; in a
 * cluster on PostgreSQL, with the leases that say which stations' clock-driven checks run here.
 */
function startRules(config: CloudConfig, log: Logger, now: () => number, core: Core, t: Transports, down: Downlink) {
  return phase(log, async (life) => {
    const publish = (topic: string, payload: string) => t.mqtt?.publish(topic, payload) ?? Promise.resolve();
    const topic = config.rules.alarmTopic;
    const notify = makeNotifier({ webhooks: core.webhooks, topic, log, publish });
    // Once committed: the alarm topic and live views (a cluster's webhook events are queued in PostgreSQL).
    const announce = makeNotifier({ topic, log, publish });
    const pool = core.pool;
    let leases: Leases | undefined;
    const cluster = config.cluster;
    if (pool && cluster)
      leases = new Leases({
        pool,
        id: memberOf(cluster),
        ttlMs: cluster.leaseSeconds * 1000,
        renewMs: cluster.renewSeconds * 1000,
        log,
        // Stations taken over are checked at once, not at the next round of the timer.
        onAcquired: (buckets) => void rules.check().then(() => log.info({ buckets }, 'stations taken over checked')),
      });
    const pgWebhooks = core.pgWebhooks;
    const state =
      pool &&
      new PgRuleState({
        pool,
        log,
        ...(pgWebhooks && {
          queue: (db, event, alarm) => {
            const { key, body } = eventMessage(event, alarm);
            return pgWebhooks.enqueue(db, key, alarm.mn, body);
          },
        }),
        announce: (event, alarm) => {
          pgWebhooks?.kick();
          announce(event, alarm);
          core.live.publish({ type: 'alarm', event, alarm });
        },
      });
    const rules: RuleEngine = new RuleEngine({
      options: config.rules,
      registry: core.registry,
      store: core.store,
      alarms: core.alarms,
      backfills: core.backfills,
      notify: (event, alarm) => {
        notify(event, alarm);
        core.live.publish({ type: 'alarm', event, alarm });
      },
      send: (mn, via, packet) => down.send(mn, via, packet),
      qn: (mn, at) => core.commands.nextQn(mn, at),
      shutdowns: (st) => core.shutdowns.windows(st),
      instruments: core.instruments,
      log,
      now,
      ...(state && { state }),
      ...(leases && { owns: leases.owns.bind(leases) }),
    });
    life.add('rules', () => rules.stop());
    if (leases) {
      const l = leases;
      await l.start();
      life.add('leases', () => l.stop());
    }
    return { rules };
  });
}

/** Phase 5: the HTTP API and dashboard, if configured. */
function startHttp(
  config: CloudConfig,
  log: Logger,
  clock: Clock,
  core: Core,
  t: Transports,
  rules: RuleEngine,
  down: Downlink,
) {
  return phase(log, async (life) => {
    const http = config.http;
    if (!http) return {};
    const { tcp, mqtt } = t;
    const { store, webhooks } = core;
    const gauges = async () => ({
      ...(tcp && { tcpConnections: tcp.listener.connections }),
      ...(mqtt?.clients && { mqttClients: mqtt.clients() }),
      ...(store.pending !== undefined && { storePending: store.pending }),
      webhookPending: core.pgWebhooks ? await core.pgWebhooks.pending() : webhooks.pending(),
    });
    const { registry, shutdowns, registrations, omRecords, marks, codec, live } = core;
    const { commands, instruments, plans, serials, keys, passwords, supervision } = core;
    // Episodes, acknowledgements, follow-ups, back-filled hours, accounts and sessions as all of a cluster sees them.
    const { alarms, acks, followUps, backfills, users, sessions } = core.shared;
    const context: ApiContext = {
      ...{ registry, store, alarms, backfills, shutdowns, registrations, omRecords, marks, codec, live, acks },
      ...{ followUps, sessions },
      ...{ commands, users, instruments, plans, serials, keys, passwords, supervision },
      instrumentRegistered: (mn: string, factor: string) => rules.instrumentRegistered(mn, factor),
      guessing: config.auth,
      ...{ ingest: t.ingest, rules, gauges, clock, send: (mn: string, via: Via, p: Packet) => down.send(mn, via, p) },
    };
    const api = await listening('http', http, () => startApi(http, context, log));
    life.add('HTTP API', () => api.app.close());
    log.info({ port: api.address.port }, 'HTTP API listening');
    return { http: api };
  });
}

/**
 * Starts every configured input over one registry, one store, one ingest path and one rule engine,
 * in phases (core → transports → downlink → rules → API); `stop` closes them in reverse.
 */
export async function startCloud(config: CloudConfig, log: Logger, options: CloudOptions = {}): Promise<Cloud> {
  const clock = options.clock ?? systemClock;
  const now = options.now ?? clock.wall;
  const life = new Lifecycle({ log });
  // The rules start after the transports that feed them and the core that reports lockouts to them.
  const toRules = new Handover<RuleEngine>();
  try {
    const core = await startCore(config, log, clock, toRules);
    life.add('core', core.close);
    const transports = await startTransports(config, log, now, clock, core, toRules);
    life.add('transports', transports.close);
    const down = downlinkRouter(transports, core.codec, log);
    const { rules, close: closeRules } = await startRules(config, log, now, core, transports, down);
    life.add('rules', closeRules);
    toRules.attach(rules);
    const api = await startHttp(config, log, clock, core, transports, rules, down);
    life.add('API', api.close);
    rules.start();
    core.webhooks.start();
    core.pgWebhooks?.start();
    const { tcp, mqtt } = transports;
    return {
      registry: core.registry,
      store: core.store,
      alarms: core.alarms,
      backfills: core.backfills,
      shutdowns: core.shutdowns,
      changeKey: (mn) => {
        const via = rules.addressOf(mn)?.via;
        const packet = via === undefined ? undefined : core.keys.issue(mn);
        if (packet === undefined || via === undefined) return false;
        const sent = down.send(mn, via, packet);
        if (!sent) core.keys.withdraw(mn, packet.qn!);
        return sent;
      },
      ingest: transports.ingest,
      rules,
      ...(tcp && { tcp }),
      ...(mqtt && { mqtt }),
      ...(api.http && { http: api.http }),
      stop: () => life.close(),
    };
  } catch (e) {
    await life.close();
    throw e;
  }
}
