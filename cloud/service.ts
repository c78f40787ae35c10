import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { encodeFrame } from '../protocol/index.js';
import { AckStore } from './api/acks.js';
import { LiveHub } from './api/live.js';
import { startApi } from './api/server.js';
import { makeNotifier } from './alarms/notify.js';
import { BackfillStore } from './alarms/backfills.js';
import { AlarmStore } from './alarms/store.js';
import { WebhookOutbox } from './alarms/webhooks.js';
import { Authenticator } from './auth.js';
import { systemClock, watchClockSteps, type Clock } from './clock.js';
import { joinCluster, ownedBy, type ClusterLink } from './cluster.js';
import type { CloudConfig } from './config.js';
import { Ingest } from './ingest/ingest.js';
import { downTopic } from '../protocol/wire.js';
import { connectExternalBroker, startEmbeddedBroker, type MqttInput } from './ingest/mqtt.js';
import { TcpListener } from './ingest/tcp.js';
import { Registry } from './registry.js';
import { fileError, listenError } from './startup-errors.js';
import { RuleEngine } from './rules/engine.js';
import { ShutdownStore } from './shutdowns.js';
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
  shutdowns: ShutdownStore;
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

/** Starts every configured input over one registry, one store, one ingest path and one rule engine. */
export async function startCloud(config: CloudConfig, log: Logger, options: CloudOptions = {}): Promise<Cloud> {
  let registry = await Registry.load(config.registry);
  const clock = options.clock ?? systemClock;
  const auth = new Authenticator(registry, {
    options: config.auth,
    clock,
    onLockout: (l) => {
      log.warn(
        { mn: l.mn, addr: l.addr, key: l.key, failures: l.failures, reason: 'password-guessing' },
        'login locked out',
      );
      rules.guessing(l);
    },
  });
  const unwatchClock = watchClockSteps(clock, log);
  const unwatch = watchRegistry(
    config.registry,
    (r) => {
      registry = r;
      auth.use(r);
    },
    log,
  );
  // Whatever registry is in force when a frame comes, its keys are the ones used; a keyed 2025
  // station's data in clear text is refused (unencrypted-cp), not stored as if it were its own.
  const codec = { sm4Key: (mn: string | undefined) => registry.sm4Key(mn), clearCp: 'refuse' as const };
  const store: MeasurementStore = opened(
    'store.path',
    config.store.type === 'sqlite' ? config.store.path : config.store.spillPath,
    () => (config.store.type === 'sqlite' ? SqliteStore.open(config.store.path) : new InfluxStore(config.store, log)),
  );
  let stateDb: ReturnType<typeof openSqlite>;
  try {
    stateDb = opened('state', config.state, () => openSqlite(config.state));
  } catch (e) {
    unwatch();
    await store.close();
    throw e;
  }
  const alarms = new AlarmStore(stateDb, config.cluster && { index: config.cluster.nodeIndex });
  const acks = new AckStore(stateDb);
  const shutdowns = new ShutdownStore(stateDb);
  const backfills = new BackfillStore(stateDb);
  const live = new LiveHub();
  const webhooks = new WebhookOutbox(stateDb, {
    urls: config.rules.webhooks,
    retryHours: config.rules.webhookRetryHours,
    log,
  });
  const notify = makeNotifier({
    webhooks,
    topic: config.rules.alarmTopic,
    log,
    publish: (topic, payload) => mqtt?.publish(topic, payload) ?? Promise.resolve(),
  });
  let mqtt: MqttInput | undefined;
  let tcp: TcpListener | undefined;
  // With several ingest processes, rule state of each station lives on its owner only (cloud/cluster.ts).
  let cluster: ClusterLink | undefined;
  const rules = new RuleEngine({
    options: config.rules,
    registry: () => registry,
    store,
    alarms,
    backfills,
    notify: (event, alarm) => {
      notify(event, alarm);
      live.publish({ type: 'alarm', event, alarm });
    },
    send: (mn, via, packet) => {
      if (via === 'tcp') return cluster ? cluster.relay(mn, packet) : (tcp?.send(mn, packet) ?? false);
      if (via !== 'mqtt' || !mqtt) return false;
      mqtt
        .publish(downTopic(mn), encodeFrame(packet, codec))
        .catch((e: Error) => log.warn({ mn, reason: e.message }, 'MQTT request not sent'));
      return true;
    },
    shutdowns: (st) => shutdowns.windows(st),
    log,
    now: options.now ?? clock.wall,
    ...(config.cluster && { owns: ownedBy(config.cluster) }),
  });
  const ingest = new Ingest({
    auth,
    now: options.now ?? clock.wall,
    limits: config.ingest,
    store,
    log,
    onPacket: (st, p, via) => {
      rules.loggedIn(st.mn);
      (cluster ?? rules).onPacket(st, p, via);
    },
    onStored: (st, points) => {
      (cluster ?? rules).onStored(st, points);
      live.stored(st, points);
    },
  });
  const stops: (() => Promise<void>)[] = [];
  const cloud: Cloud = {
    registry: () => registry,
    ingest,
    store,
    alarms,
    backfills,
    rules,
    shutdowns,
    async stop() {
      unwatch();
      unwatchClock();
      await rules.stop();
      await webhooks.stop();
      for (const stop of stops.reverse()) await stop();
      await store.close();
      stateDb.close();
    },
  };
  try {
    if (config.cluster && config.mqtt?.mode === 'external') {
      const link = await joinCluster({
        cluster: config.cluster,
        mqtt: config.mqtt,
        registry: () => registry,
        rules,
        sendTcp: (mn, packet) => tcp?.send(mn, packet) ?? false,
        alarms,
        acks,
        onPeerAlarm: (event, alarm) => live.publish({ type: 'alarm', event, alarm }),
        log,
      });
      cluster = link;
      stops.push(() => link.close());
    }
    if (config.tcp) {
      const listener = new TcpListener(config.tcp, ingest, log, codec, clock.mono);
      tcp = listener;
      stops.push(() => listener.close());
      cloud.tcp = { address: await listening('tcp', config.tcp, () => listener.listen()), listener };
      log.info({ port: cloud.tcp.address.port }, 'HJ 212 TCP listening');
    }
    if (config.mqtt) {
      const m = config.mqtt;
      const input =
        m.mode === 'embedded'
          ? await listening('mqtt', m, () => startEmbeddedBroker(m, auth, ingest, log, codec, config.rules.alarmTopic))
          : await connectExternalBroker(m, ingest, log, codec);
      mqtt = input;
      stops.push(() => input.close());
      cloud.mqtt = input;
    }
    if (config.http) {
      const gauges = () => ({
        ...(tcp && { tcpConnections: tcp.connections }),
        ...(mqtt?.clients && { mqttClients: mqtt.clients() }),
        ...(store.pending !== undefined && { storePending: store.pending }),
        webhookPending: webhooks.pending(),
      });
      const http = config.http;
      const api = await listening('http', http, () =>
        startApi(http, { ...cloud, codec, live, acks, gauges, clock }, log),
      );
      stops.push(() => api.app.close());
      cloud.http = api;
      log.info({ port: api.address.port }, 'HTTP API listening');
    }
  } catch (e) {
    await cloud.stop();
    throw e;
  }
  rules.start();
  webhooks.start();
  return cloud;
}
