import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Packet } from '../protocol/index.js';
import { PacketSchema } from '../protocol/schema.js';
import type { AlarmEvent } from './alarms/notify.js';
import { AlarmSchema, type Alarm, type AlarmStore } from './alarms/store.js';
import { AckBodySchema, FollowUpBodySchema, type AckStore } from './api/acks.js';
import type { Via } from './ingest/ingest.js';
import type { MqttOptions } from './ingest/mqtt.js';
import { loggable } from './redact.js';
import type { Registry, Station } from './registry.js';
import { PointSchema, type Point } from './store/types.js';

/**
 * Several ingest processes behind one broker. Uploads reach whichever process the shared
 * subscription (or the TCP load balancer) picks, round robin, so storing is split freely (writes are
 * idempotent). Rule state is not: an alarm episode or a missing-hour sweep needs every packet of its
 * station in one place. So each station has one owner, by rendezvous hashing of its MN over
 * `nodeCount`, and whoever stores a packet forwards what the rules need to the owner's channel
 * `hj212/_cluster/{owner}/{MN}`. All of a station's packets then reach its owner through the broker
 * in the order they were stored, whichever process stored them.
 */
export const ClusterOptionsSchema = z
  .strictObject({
    /** This process, 0 to nodeCount - 1; unique in the cluster. */
    nodeIndex: z.number().int().min(0),
    /** How many ingest processes share the stations; the same on every one. */
    nodeCount: z.number().int().min(1).max(1024),
  })
  .refine((c) => c.nodeIndex < c.nodeCount, { path: ['nodeIndex'], message: 'nodeIndex is 0 to nodeCount - 1' });
export type ClusterOptions = z.output<typeof ClusterOptionsSchema>;

const PREFIX = 'hj212/_cluster';
/** The channel of a node's stations; the broker's ACL gives it to the ingest account only. */
export const clusterTopic = (node: number, mn: string): string => `${PREFIX}/${node}/${mn}`;
/**
 * Requests for a logger connected over TCP to some process: every process hears them, the one holding the socket sends.
 */
const sendTopic = (mn: string): string => `${PREFIX}/send/${mn}`;
/** Every process copies the others' alarm episodes, acknowledgements and follow-ups, so each one lists them all. */
const alarmTopic = (node: number): string => `${PREFIX}/alarms/${node}`;
const ackTopic = (node: number): string => `${PREFIX}/acks/${node}`;
const followUpTopic = (node: number): string => `${PREFIX}/follow-ups/${node}`;
/** A process that (re)joins asks the others for what it missed. */
const syncTopic = (node: number): string => `${PREFIX}/sync/${node}`;
/** How far back a (re)joining process is sent the others' episodes; open ones always. */
const SYNC_DAYS = 31;

const FollowUpCopySchema = z.object({
  alarmId: z.number().int(),
  followUp: FollowUpBodySchema.extend({ by: z.string(), at: z.number() }),
});
const AckCopySchema = z.object({
  alarmId: z.number().int().nonnegative(),
  ack: AckBodySchema.extend({ by: z.string(), at: z.number() }),
});

/**
 * The owner of a station: the node with the highest hash of (node, MN). Adding a node moves only the
 * stations the new node wins (1/n of them), and every process computes the same answer alone.
 */
export function ownerOf(mn: string, nodeCount: number): number {
  let best = 0;
  let bestScore = -1n;
  for (let node = 0; node < nodeCount; node++) {
    const score = createHash('sha256').update(`${node}:${mn}`).digest().readBigUInt64BE(0);
    if (score > bestScore) [best, bestScore] = [node, score];
  }
  return best;
}

/** Whether a node owns a station: the rules' filter for clock-driven checks. */
export const ownedBy =
  (c: ClusterOptions) =>
  (mn: string): boolean =>
    ownerOf(mn, c.nodeCount) === c.nodeIndex;

/**
 * What the rules learn from one packet: it was heard (and how to answer it), and what it stored.
 * Checked on receipt like any peer's message: the broker carries what any holder of the ingest
 * account publishes.
 */
const FeedSchema = z.discriminatedUnion('t', [
  z.strictObject({
    t: z.literal('packet'),
    via: z.enum(['tcp', 'mqtt', 'http']),
    packet: PacketSchema.pick({ version: true, pw: true, st: true }).strict(),
  }),
  z.strictObject({ t: z.literal('stored'), points: z.array(PointSchema).max(10_000) }),
]);
type Feed = z.output<typeof FeedSchema>;

export interface RuleSink {
  onPacket(station: Station, packet: Pick<Packet, 'version' | 'pw' | 'st'>, via: Via): void;
  onStored(station: Station, points: Point[]): void;
}

export interface ClusterLink extends RuleSink {
  owns(mn: string): boolean;
  /** Sends `packet` to a TCP logger from whichever process it is connected to; false if not even asked. */
  relay(mn: string, packet: Packet): boolean;
  close(): Promise<void>;
}

export interface JoinOptions {
  cluster: ClusterOptions;
  mqtt: Extract<MqttOptions, { mode: 'external' }>;
  registry: () => Registry;
  /** This process's rules, fed with its own stations' packets. */
  rules: RuleSink;
  /** Sends to a logger connected here over TCP; false if it is not. */
  sendTcp: (mn: string, packet: Packet) => boolean;
  alarms: AlarmStore;
  acks: AckStore;
  /** An episode of another process opened or closed, or one acknowledged on another process (for live views). */
  onPeerAlarm?: (event: AlarmEvent | 'acknowledged' | 'followed-up', alarm: Alarm) => void;
  log: Logger;
}

/** Where a message on the cluster channel goes: `{kind, node}` for node-scoped topics, `{kind, mn}` for station ones. */
function route(
  topic: string,
):
  | { kind: 'alarms' | 'acks' | 'follow-ups' | 'sync'; node: number }
  | { kind: 'send'; mn: string }
  | { kind: 'feed'; mn: string } {
  const [kind, last = ''] = topic.slice(PREFIX.length + 1).split('/');
  if (kind === 'alarms' || kind === 'acks' || kind === 'follow-ups' || kind === 'sync')
    return { kind, node: Number(last) };
  return kind === 'send' ? { kind, mn: last } : { kind: 'feed', mn: last };
}

export async function joinCluster(o: JoinOptions): Promise<ClusterLink> {
  const { nodeIndex, nodeCount } = o.cluster;
  const opts: IClientOptions = {
    protocolVersion: 5,
    reconnectPeriod: 1000,
    clean: true,
    clientId: `hj212-ingest-${nodeIndex}-${process.pid}`,
  };
  if (o.mqtt.username !== undefined) opts.username = o.mqtt.username;
  if (o.mqtt.password !== undefined) opts.password = o.mqtt.password;
  if (o.mqtt.ca !== undefined) opts.ca = await readFile(o.mqtt.ca);
  const client: MqttClient = await connectAsync(o.mqtt.url, opts);
  const log = o.log.child({ node: nodeIndex });
  client.on('error', (e) => log.warn({ reason: e.message }, 'cluster channel error'));
  const publish = (topic: string, body: unknown, mn?: string): void => {
    client
      .publishAsync(topic, JSON.stringify(body), { qos: 1 })
      .catch((e: Error) => log.error({ mn, topic, reason: e.message }, 'cluster message not sent'));
  };
  const shareOwn = (): void => {
    const own = o.alarms.own(Date.now() - SYNC_DAYS * 86_400_000);
    for (const a of own) publish(alarmTopic(nodeIndex), a, a.mn);
    for (const [alarmId, ack] of o.acks.of(own.map((a) => a.id))) publish(ackTopic(nodeIndex), { alarmId, ack });
    for (const [alarmId, trail] of o.acks.followUps.of(own.map((a) => a.id)))
      for (const followUp of trail) publish(followUpTopic(nodeIndex), { alarmId, followUp });
  };
  /** Messages on the cluster channel refused so far (malformed, or not what their topic says). */
  let rejected = 0;
  const apply = (topic: string, payload: Buffer): void => {
    const to = route(topic);
    if (to.kind === 'send') {
      const packet = PacketSchema.parse(JSON.parse(payload.toString()));
      if (packet.mn !== undefined && packet.mn !== to.mn)
        throw new Error(`the request is for ${packet.mn}, not ${to.mn}`);
      return void o.sendTcp(to.mn, packet);
    }
    if (to.kind === 'feed') {
      const station = o.registry().get(to.mn);
      if (!station) return;
      const feed = FeedSchema.parse(JSON.parse(payload.toString()));
      if (feed.t === 'stored' && feed.points.some((p) => p.mn !== to.mn))
        throw new Error(`points of another station on the channel of ${to.mn}`);
      if (feed.t === 'packet') o.rules.onPacket(station, feed.packet, feed.via);
      else o.rules.onStored(station, feed.points);
      return;
    }
    if (to.node === nodeIndex) return;
    if (to.kind === 'sync') return shareOwn();
    if (to.kind === 'acks') {
      const { alarmId, ack } = AckCopySchema.parse(JSON.parse(payload.toString()));
      o.acks.apply(alarmId, ack);
      const alarm = o.alarms.get(alarmId);
      if (alarm) o.onPeerAlarm?.('acknowledged', alarm);
      return;
    }
    if (to.kind === 'follow-ups') {
      const { alarmId, followUp } = FollowUpCopySchema.parse(JSON.parse(payload.toString()));
      o.acks.followUps.apply(alarmId, followUp);
      const alarm = o.alarms.get(alarmId);
      if (alarm) o.onPeerAlarm?.('followed-up', alarm);
      return;
    }
    const alarm = AlarmSchema.parse(JSON.parse(payload.toString()));
    const change = o.alarms.applyPeer(alarm);
    if (change !== 'updated') o.onPeerAlarm?.(change, alarm);
  };
  client.on('message', (topic, payload) => {
    try {
      apply(topic, payload);
    } catch (e) {
      rejected++;
      const detail = e instanceof z.ZodError ? z.prettifyError(e) : (e as Error).message;
      log.error(
        { mn: topic.slice(topic.lastIndexOf('/') + 1), topic, reason: 'cluster-message-invalid', detail, rejected },
        'cluster message not applied',
      );
    }
  });
  // QoS 1 both ways and one connection: the owner gets a station's messages in the order stored.
  await client.subscribeAsync(
    [
      `${PREFIX}/${nodeIndex}/+`,
      `${PREFIX}/send/+`,
      `${PREFIX}/alarms/+`,
      `${PREFIX}/acks/+`,
      `${PREFIX}/follow-ups/+`,
      `${PREFIX}/sync/+`,
    ],
    { qos: 1 },
  );
  o.alarms.watch((a) => publish(alarmTopic(nodeIndex), a, a.mn));
  o.acks.watch((alarmId, ack) => publish(ackTopic(nodeIndex), { alarmId, ack }));
  o.acks.followUps.watch((alarmId, followUp) => publish(followUpTopic(nodeIndex), { alarmId, followUp }));
  // Changes made while this process was away are not queued for it (clean session): ask for them, and
  // offer its own, which the others may have missed in turn.
  publish(syncTopic(nodeIndex), {});
  shareOwn();
  log.info({ nodeCount, url: loggable(o.mqtt.url) }, 'joined the ingest cluster');
  const forward = (mn: string, feed: Feed): void => {
    client
      .publishAsync(clusterTopic(ownerOf(mn, nodeCount), mn), JSON.stringify(feed), { qos: 1 })
      .catch((e: Error) => log.error({ mn, reason: e.message }, 'not forwarded to the station owner'));
  };
  return {
    owns: ownedBy(o.cluster),
    onPacket: (station, packet, via) =>
      forward(station.mn, {
        t: 'packet',
        via,
        packet: {
          version: packet.version,
          ...(packet.pw !== undefined && { pw: packet.pw }),
          ...(packet.st !== undefined && { st: packet.st }),
        },
      }),
    onStored: (station, points) => forward(station.mn, { t: 'stored', points }),
    relay(mn, packet) {
      if (o.sendTcp(mn, packet)) return true;
      if (!client.connected) return false;
      client
        .publishAsync(sendTopic(mn), JSON.stringify(packet), { qos: 1 })
        .catch((e: Error) => log.warn({ mn, reason: e.message }, 'request not relayed'));
      return true;
    },
    async close() {
      await client.endAsync();
    },
  };
}
