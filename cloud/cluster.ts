import { hostname } from 'node:os';
import { readFile } from 'node:fs/promises';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Packet } from '../protocol/index.js';
import { PacketSchema } from '../protocol/schema.js';
import type { MqttOptions } from './ingest/mqtt.js';
import { loggable } from './redact.js';

/**
 * Several ingest processes on one PostgreSQL (cloud/state/): uploads reach whichever process the
 * shared subscription (or the TCP load balancer) picks, and that process stores them and runs their
 * station's rules in a unit locked in the database (cloud/state/pg-rule-state.ts). The clock-driven
 * checks (offline, missing hours) of a station run on the holder of its bucket's lease
 * (cloud/state/leases.ts): a process killed loses its leases when they expire and the others take its
 * stations over, a process that joins takes its share, and nobody restarts. Episodes,
 * acknowledgements and follow-ups are in the database only; the broker carries nothing but requests
 * to loggers connected over TCP to another process.
 */
export const ClusterOptionsSchema = z
  .strictObject({
    /** The shared state, e.g. postgres://hj212:secret@db.example:5432/hj212 (libpq URL; `sslmode` as libpq). */
    postgres: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL, e.g. postgres://hj212:secret@127.0.0.1:5432/hj212'),
    /** This process in the cluster, unique among the live ones; default `{hostname}-{pid}`. */
    member: z
      .string()
      .regex(/^[\w.:-]{1,200}$/, 'letters, digits and . _ : - only')
      .optional(),
    /** How long a lease and a heartbeat last without renewal: the bound on a takeover with renewSeconds. */
    leaseSeconds: z.number().int().min(2).max(300).default(10),
    /** How often each process renews its leases (at most half of leaseSeconds). */
    renewSeconds: z.number().int().min(1).max(150).default(2),
    /** Connections to PostgreSQL of this process. */
    poolSize: z.number().int().min(2).max(100).default(10),
    /**
     * Where every process reads the station registry: the `registry` file (each process its own copy,
     * reloaded when it changes) or PostgreSQL's `stations` table, which `hj212 cloud registry-push`
     * fills from that file and every process polls.
     */
    registry: z.enum(['file', 'postgres']).default('file'),
    /** How often the processes look for a changed registry in PostgreSQL. */
    registryPollSeconds: z.number().int().min(1).max(3600).default(10),
  })
  .refine((c) => c.renewSeconds * 2 <= c.leaseSeconds, {
    path: ['renewSeconds'],
    message: 'renewSeconds is at most half of leaseSeconds, so a lease is renewed twice before it runs out',
  });
export type ClusterOptions = z.output<typeof ClusterOptionsSchema>;

/** This process's name in the cluster. */
export const memberOf = (c: ClusterOptions): string => c.member ?? `${hostname()}-${process.pid}`;

const PREFIX = 'hj212/_cluster';
/**
 * Requests for a logger connected over TCP to some process: every process hears them, the one holding
 * the socket sends. The broker's ACL gives the topic to the ingest account only.
 */
export const sendTopic = (mn: string): string => `${PREFIX}/send/${mn}`;

/** The broker channel between the processes of a cluster: requests to TCP loggers connected elsewhere. */
export interface Relay {
  /** Sends `packet` to a TCP logger from whichever process it is connected to; false if not even asked. */
  relay(mn: string, packet: Packet): boolean;
  /** Requests on the channel refused so far (malformed, or not for the station their topic names). */
  readonly rejected: number;
  close(): Promise<void>;
}

export interface RelayOptions {
  member: string;
  mqtt: Extract<MqttOptions, { mode: 'external' }>;
  /** Sends to a logger connected here over TCP; false if it is not. */
  sendTcp: (mn: string, packet: Packet) => boolean;
  log: Logger;
}

export async function joinRelay(o: RelayOptions): Promise<Relay> {
  const opts: IClientOptions = {
    protocolVersion: 5,
    reconnectPeriod: 1000,
    clean: true,
    clientId: `hj212-ingest-${o.member}`.slice(0, 200),
  };
  if (o.mqtt.username !== undefined) opts.username = o.mqtt.username;
  if (o.mqtt.password !== undefined) opts.password = o.mqtt.password;
  if (o.mqtt.ca !== undefined) opts.ca = await readFile(o.mqtt.ca);
  const client: MqttClient = await connectAsync(o.mqtt.url, opts);
  const log = o.log.child({ member: o.member });
  client.on('error', (e) => log.warn({ reason: e.message }, 'cluster channel error'));
  let rejected = 0;
  // Checked on receipt like any peer's message: the broker carries what any holder of the ingest
  // account publishes.
  client.on('message', (topic, payload) => {
    const mn = topic.slice(topic.lastIndexOf('/') + 1);
    try {
      const packet = PacketSchema.parse(JSON.parse(payload.toString()));
      if (packet.mn !== undefined && packet.mn !== mn) throw new Error(`the request is for ${packet.mn}, not ${mn}`);
      o.sendTcp(mn, packet);
    } catch (e) {
      rejected++;
      const detail = e instanceof z.ZodError ? z.prettifyError(e) : (e as Error).message;
      log.error({ mn, topic, reason: 'cluster-message-invalid', detail, rejected }, 'cluster message not applied');
    }
  });
  await client.subscribeAsync(`${PREFIX}/send/+`, { qos: 1 });
  log.info({ url: loggable(o.mqtt.url) }, 'joined the ingest cluster');
  return {
    get rejected() {
      return rejected;
    },
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
