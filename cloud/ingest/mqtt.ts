import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { connectAsync, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { z } from 'zod';
import { decodeFrame, encodeFrame, qnRtnAnswer, QnRtn, type Packet } from '../../protocol/index.js';
import { downTopic, mnOfUpTopic, upTopic, UP_FILTER } from '../../protocol/wire.js';
import type { Authenticator } from '../auth.js';
import { loggable } from '../redact.js';
import { SecretHashSchema } from '../secrets.js';
import type { Ingest } from './ingest.js';
import { deviceOwns, mnShaped, observerOwns } from './client-ids.js';
import { answerable, headerOf } from './header.js';
import type { Keys } from './tcp.js';

export const MqttOptionsSchema = z.discriminatedUnion('mode', [
  z.strictObject({
    mode: z.literal('embedded'),
    host: z.string().default('0.0.0.0'),
    port: z.number().int().min(0).max(65535).default(1883),
    /** Largest payload accepted, bytes: one HJ 212 frame. */
    maxPayload: z.number().int().min(64).default(10_240),
    /** Logins (dashboards, SCADA) that may only read the alarm topics. */
    observers: z
      .array(
        z.strictObject({
          username: z
            .string()
            .min(1)
            .refine((u) => !mnShaped(u), 'an observer user name must not look like an MN (14-24 letters or digits)'),
          secretHash: SecretHashSchema,
        }),
      )
      .default([]),
  }),
  z.strictObject({
    mode: z.literal('external'),
    url: z.string().regex(/^mqtts?:\/\//, 'url is mqtt://host:port or mqtts://host:port'),
    username: z.string().optional(),
    password: z.string().optional(),
    /** Several ingest processes in one share group split the uploads between them. */
    group: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/)
      .default('ingest'),
    maxPayload: z.number().int().min(64).default(10_240),
    /** CA certificate file (PEM) for an mqtts:// broker whose certificate a private CA signed. */
    ca: z.string().optional(),
  }),
]);
export type MqttOptions = z.output<typeof MqttOptionsSchema>;

/**
 * One upload from `hj212/{MN}/up`: the frame must decode and name the MN of its topic; the answer
 * (9014 after storing, or 9011 with the reason) is for `hj212/{MN}/down`.
 */
async function handleUpload(
  topic: string,
  payload: Buffer,
  maxPayload: number,
  ingest: Ingest,
  codec: Keys = {},
  addr?: string,
): Promise<Packet[]> {
  const topicMn = mnOfUpTopic(topic);
  const ctx = { topic, via: 'mqtt' as const, ...(addr !== undefined && { addr }) };
  if (topicMn === undefined) {
    ingest.reject('bad-topic', ctx);
    return [];
  }
  if (payload.length > maxPayload) {
    ingest.reject('oversize', { ...ctx, mn: topicMn, bytes: payload.length });
    return [];
  }
  const r = decodeFrame(payload, { ...codec, mode: 'lenient', maxSegment: maxPayload });
  if (!r.ok) {
    ingest.reject(r.error.code, { ...ctx, mn: topicMn, detail: r.error.message });
    return r.error.code === 'bad-crc' ? [qnRtnAnswer({ ...headerOf(r.raw), mn: topicMn }, QnRtn.BadCrc)] : [];
  }
  const packet = r.frame.packet;
  if (packet.mn !== topicMn) {
    ingest.reject('topic-mismatch', { ...ctx, mn: topicMn, frameMn: packet.mn });
    return [qnRtnAnswer({ ...answerable(packet), mn: topicMn }, QnRtn.BadMn)];
  }
  const v = await ingest.accept(packet, 'mqtt', addr);
  return [...(v.answer ? [v.answer] : []), ...(v.ok ? (v.then ?? []) : [])];
}

/** Handles an upload and publishes its answer; a fault is counted and logged, never thrown. */
async function answerUpload(
  topic: string,
  payload: Buffer,
  maxPayload: number,
  ingest: Ingest,
  codec: Keys,
  publish: (topic: string, payload: string) => Promise<void>,
  /** The publisher's address, where the broker is ours. */
  addr?: string,
): Promise<void> {
  try {
    // In order: a 9013 before the 1012 that follows it (HJ 212-2017 C.4).
    for (const p of await handleUpload(topic, payload, maxPayload, ingest, codec, addr))
      if (p.mn !== undefined) await publish(downTopic(p.mn), encodeFrame(p, codec));
  } catch (e) {
    ingest.reject('internal-error', { topic, via: 'mqtt', detail: (e as Error).message });
  }
}

/** Sends packets to devices and alarms to subscribers, whichever broker is in use. */
export interface MqttInput {
  publish(topic: string, payload: string): Promise<void>;
  address?: AddressInfo;
  /** Devices connected to the embedded broker (an external broker counts its own). */
  clients?: () => number;
  /** Whether a device with this MN is connected to the embedded broker (an external broker's are not known here). */
  connected?: (mn: string) => boolean;
  close(): Promise<void>;
}

/**
 * Room over `maxPayload` in an MQTT packet for a PUBLISH's topic and properties, or a CONNECT's or SUBSCRIBE's
 * fields.
 */
const PACKET_ROOM = 64 * 1024;

/**
 * Reads the MQTT fixed headers of what a connection sends and calls `tooBig` with the remaining
 * length of the first packet announced over `limit`, before its body is buffered anywhere.
 */
function packetSizeGuard(limit: number, tooBig: (bytes: number) => void): (chunk: Buffer) => void {
  let body = 0;
  /** Remaining-length bytes read so far; undefined while the next byte is a packet's type. */
  let length: number[] | undefined;
  let tripped = false;
  return (chunk) => {
    for (let i = 0; i < chunk.length && !tripped;) {
      if (body > 0) {
        const n = Math.min(body, chunk.length - i);
        body -= n;
        i += n;
      } else if (length === undefined) {
        length = [];
        i++;
      } else {
        const b = chunk[i++]!;
        length.push(b);
        if (b & 0x80 && length.length < 4) continue;
        body = length.reduce((sum, x, k) => sum + (x & 0x7f) * 128 ** k, 0);
        length = undefined;
        if (body > limit) {
          tripped = true;
          tooBig(body);
        }
      }
    }
  };
}

/**
 * 2 = identifier rejected, 3 = server unavailable, 4 = bad user name or password, 5 = not authorized (MQTT 3.1.1
 * CONNACK).
 */
function authError(message: string, returnCode: 2 | 3 | 4 | 5 = 4): AuthenticateError {
  // aedes types the code as a const enum.
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

const addrOf = (client: Client): string | undefined => (client.conn as Partial<Socket>).remoteAddress;

/**
 * The embedded broker: a device logs in with its MN as user name and its MQTT secret, may publish
 * only to its own up topic and subscribe only to its own down topic.
 */
export async function startEmbeddedBroker(
  opts: Extract<MqttOptions, { mode: 'embedded' }>,
  auth: Authenticator,
  ingest: Ingest,
  log: Logger,
  codec: Keys = {},
  alarmTopic = 'hj212/alarms',
): Promise<MqttInput> {
  const mnOf = new WeakMap<Client, string>();
  const observers = new WeakSet<Client>();
  /** Where each device last logged in from: its uploads' refusals name that address. */
  const addrOfMn = new Map<string, string>();
  /** Undefined once logged in, else the reason; the client id must be one the login owns (client-ids.ts). */
  const login = async (
    client: Client,
    username: string | undefined,
    secret: string | undefined,
  ): Promise<string | undefined> => {
    const observer = opts.observers.find((o) => o.username === username);
    if (observer) {
      const failed = await auth.verify(observer.username, secret, observer.secretHash, addrOf(client));
      if (failed !== undefined) return failed;
      if (!observerOwns(observer.username, client.id)) return 'client-id';
      observers.add(client);
      return undefined;
    }
    const r = await auth.check(username, secret, 'mqttSecretHash', addrOf(client));
    if (!r.ok) return r.reason;
    if (!deviceOwns(r.station.mn, client.id)) return 'client-id';
    mnOf.set(client, r.station.mn);
    const addr = addrOf(client);
    if (addr !== undefined) addrOfMn.set(r.station.mn, addr);
    return undefined;
  };
  /** Who may receive a message on `topic`: a device its own down topic, an observer the alarm topics. */
  const mayRead = (client: Client, topic: string): boolean => {
    const mn = mnOf.get(client);
    if (mn !== undefined) return topic === downTopic(mn);
    return observers.has(client) && topic.startsWith(`${alarmTopic}/`);
  };
  const broker = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      login(client, username, password?.toString('utf8')).then(
        (reason) => {
          if (reason === undefined) return done(null, true);
          const ctx = { mn: username, clientId: client.id, addr: addrOf(client), via: 'mqtt' };
          ingest.reject(`mqtt-${reason}`, ctx);
          const code = reason === 'client-id' ? 2 : reason === 'locked-out' ? 5 : reason === 'busy' ? 3 : 4;
          done(
            authError(reason === 'client-id' ? `client id ${client.id} belongs to another login` : reason, code),
            false,
          );
        },
        (e: Error) => done(authError(e.message), false),
      );
    },
    authorizePublish: (client, packet, done) => {
      if (client === null) return done(null);
      const mn = mnOf.get(client);
      const ctx = { mn, clientId: client.id, addr: addrOf(client), topic: packet.topic, via: 'mqtt' };
      // A retained upload would be delivered again to every new subscriber (an ingest restart): refused.
      if (packet.retain) {
        ingest.reject('mqtt-retained', ctx);
        return done(new Error('retained messages are not accepted'));
      }
      if (mn !== undefined && packet.topic === upTopic(mn)) return done(null);
      ingest.reject('mqtt-publish-denied', ctx);
      done(new Error(`${mn ?? client.id} may publish only to ${mn === undefined ? 'its own up topic' : upTopic(mn)}`));
    },
    authorizeSubscribe: (client, sub, done) => {
      const mn = mnOf.get(client);
      if (mn !== undefined && sub.topic === downTopic(mn)) return done(null, sub);
      if (observers.has(client) && sub.topic.startsWith(`${alarmTopic}/`)) return done(null, sub);
      ingest.reject('mqtt-subscribe-denied', {
        mn,
        clientId: client.id,
        addr: addrOf(client),
        topic: sub.topic,
        via: 'mqtt',
      });
      // A null subscription is a SUBACK failure (0x80): the device learns, its connection stays.
      done(null, null);
    },
    // Every message on its way to a client, queued ones of a restored session included, is checked
    // against the login that receives it: a session never carries one station's requests to another.
    authorizeForward: (client, packet) => {
      if (mayRead(client, packet.topic)) return packet;
      ingest.reject('mqtt-forward-denied', {
        mn: mnOf.get(client),
        clientId: client.id,
        addr: addrOf(client),
        topic: packet.topic,
        via: 'mqtt',
      });
      return null;
    },
  });
  // Logged-in clients, for the downlink to tell a device that is away.
  const online = new Set<Client>();
  broker.on('client', (c) => online.add(c));
  broker.on('clientDisconnect', (c) => online.delete(c));
  const publish = (topic: string, payload: string): Promise<void> =>
    new Promise((resolve, reject) =>
      broker.publish(
        { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false },
        (e) => (e ? reject(e) : resolve()),
      ),
    );
  await new Promise<void>((resolve) =>
    broker.subscribe(
      UP_FILTER,
      (packet, done) => {
        // Called synchronously, done() lets mqemitter recurse through its whole queue: 10,000 devices
        // publishing at once overflowed the stack. The next turn of the event loop unwinds it.
        setImmediate(done);
        const addr = addrOfMn.get(mnOfUpTopic(packet.topic) ?? '');
        void answerUpload(packet.topic, Buffer.from(packet.payload), opts.maxPayload, ingest, codec, publish, addr);
      },
      resolve,
    ),
  );
  // Nagle off: a 9014 written just after the PUBACK of its upload would otherwise wait for the
  // device's delayed ACK (40 ms), which caps a device's replay at its window per 40 ms.
  const server: Server = createServer((socket) => {
    const client = broker.handle(socket.setNoDelay(true));
    // aedes has no size limit: it would buffer all a packet announces (up to 256 MB), from anyone, before
    // any check of ours runs. Added after aedes' 'readable' listener, this sees each chunk aedes reads.
    socket.on(
      'data',
      packetSizeGuard(opts.maxPayload + PACKET_ROOM, (bytes) => {
        ingest.reject('oversize', {
          mn: mnOf.get(client),
          clientId: client.id,
          addr: socket.remoteAddress,
          bytes,
          via: 'mqtt',
        });
        socket.destroy();
      }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => broker.close(() => reject(e)));
    server.listen(opts.port, opts.host, () => resolve());
  });
  log.info({ port: (server.address() as AddressInfo).port }, 'embedded MQTT broker listening');
  return {
    publish,
    address: server.address() as AddressInfo,
    clients: () => broker.connectedClients,
    connected: (mn) => [...online].some((c) => mnOf.get(c) === mn),
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An external broker (Mosquitto, EMQX): the ingest joins a shared subscription of the up topics. */
export async function connectExternalBroker(
  opts: Extract<MqttOptions, { mode: 'external' }>,
  ingest: Ingest,
  log: Logger,
  codec: Keys = {},
): Promise<MqttInput> {
  // The broker may take bigger payloads from devices than we do; it must not pass them on for us to buffer.
  const o: Parameters<typeof connectAsync>[1] = {
    protocolVersion: 5,
    reconnectPeriod: 1000,
    clean: true,
    properties: { maximumPacketSize: opts.maxPayload + PACKET_ROOM },
  };
  if (opts.username !== undefined) o.username = opts.username;
  if (opts.password !== undefined) o.password = opts.password;
  if (opts.ca !== undefined) o.ca = await readFile(opts.ca);
  const client: MqttClient = await connectAsync(opts.url, o);
  const publish = async (topic: string, payload: string): Promise<void> => {
    await client.publishAsync(topic, payload, { qos: 1 });
  };
  // Nagle off (a new socket after each reconnect), for the same reason as the embedded broker's.
  client.on('connect', () => (client.stream as Partial<Pick<Socket, 'setNoDelay'>>).setNoDelay?.(true));
  (client.stream as Partial<Pick<Socket, 'setNoDelay'>>).setNoDelay?.(true);
  client.on('message', (topic, payload, packet) => {
    // A retained message is an old upload replayed to a new subscription (every restart of ours): its data
    // was stored when it was live, and storing it again would overwrite corrections and re-run the rules.
    if (packet.retain) return ingest.reject('mqtt-retained', { topic, mn: mnOfUpTopic(topic), via: 'mqtt' });
    void answerUpload(topic, payload, opts.maxPayload, ingest, codec, publish);
  });
  client.on('error', (e) => log.warn({ reason: e.message, url: loggable(opts.url) }, 'MQTT broker error'));
  await client.subscribeAsync(`$share/${opts.group}/${UP_FILTER}`, { qos: 1 });
  log.info({ url: loggable(opts.url), group: opts.group }, 'subscribed to the external MQTT broker');
  return {
    publish,
    async close() {
      await client.endAsync();
    },
  };
}
