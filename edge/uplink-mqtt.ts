import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type * as Mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import { StreamDecoder } from '../protocol/index.js';
import { downTopic, upTopic } from '../protocol/wire.js';
import type { UplinkConfig } from './config.js';
import { UplinkBase, backoffMs } from './link.js';
import type { UplinkDeps } from './link.js';

type MqttUplinkConfig = Extract<UplinkConfig, { kind: 'mqtt' }>;

/**
 * mqtt.js (about 5 MB resident once loaded) is loaded by the first MQTT uplink that starts, not by
 * every box: most send HJ 212 over TCP only. It is a CommonJS package, so `require` loads it at once
 * (start() stays synchronous) and shares the one copy an `import` elsewhere in the process loads.
 */
const require = createRequire(import.meta.url);
let mqttModule: typeof Mqtt | undefined;
const connect = (url: string, options: IClientOptions): MqttClient =>
  (mqttModule ??= require('mqtt') as typeof Mqtt).connect(url, options);

/**
 * Turns Nagle's algorithm off on the client's socket (a new one after every reconnect). With it on,
 * a small write that follows an unacknowledged one waits for the peer's delayed ACK (40 ms on Linux):
 * on the broker's side that held each 9014 behind the PUBACK of its upload and capped a replay at a
 * window per 40 ms; on ours it would hold the next upload behind the PUBACK of a 9014 the same way.
 */
function noDelay(client: MqttClient): void {
  (client.stream as Partial<Pick<Socket, 'setNoDelay'>>).setNoDelay?.(true);
}

/**
 * The cloud uplink over MQTT: each HJ 212 frame is one QoS 1 message on hj212/{MN}/up; 9014 answers
 * and commands come back on hj212/{MN}/down. The session is persistent (clean: false, a stable client
 * id), so the broker keeps commands sent while the box was offline; QoS 1 alone does not take a
 * record out of the outbox, only the cloud's 9014 does.
 */
export class MqttUplink extends UplinkBase {
  private client: MqttClient | undefined;
  /** The MN the client id, login and topics of the session are for; a 1002 moves them (mnChanged). */
  private linkMn = '';
  private attempt = 0;
  private stopped = false;
  /** Settles once a 1002's move to the new MN has closed the old session (and started the new one). */
  private moving: Promise<void> = Promise.resolve();
  /** Settles when the broker acknowledged the last frame published (or the publish failed). */
  private lastPublish: Promise<void> = Promise.resolve();

  constructor(
    private readonly mqtt: MqttUplinkConfig,
    deps: UplinkDeps,
  ) {
    super(mqtt, deps);
  }

  private get mn(): string {
    return this.addressee().mn;
  }

  /**
   * The login for `mn`: the configured user name, except that one equal to the configured MN (the cloud's
   * convention, user name = MN, docs/cloud.md) follows the MN a platform's 1002 set.
   */
  private username(mn: string): string | undefined {
    const configuredMn = this.mqtt.mn ?? this.deps.station.mn;
    return this.mqtt.username === configuredMn ? mn : this.mqtt.username;
  }

  start(): void {
    const mn = this.mn;
    this.linkMn = mn;
    const username = this.username(mn);
    const options: IClientOptions = {
      clientId: `hj212-edge-${mn}-${this.mqtt.id}`,
      clean: false,
      reconnectPeriod: this.mqtt.reconnectMinSeconds * 1000,
      // A refused login is dialled again with the back-off, as a logger keeps dialling its platform: the broker
      // may not know the box yet (a new MN from a 1002 awaiting registration, credentials being provisioned).
      reconnectOnConnackError: true,
      connectTimeout: this.mqtt.timeoutSeconds * 1000,
      ...(username !== undefined && { username }),
      ...(this.mqtt.password !== undefined && { password: this.mqtt.password }),
      ...(this.mqtt.ca !== undefined && { ca: readFileSync(this.mqtt.ca) }),
    };
    this.setState('connecting');
    const client = connect(this.mqtt.url, options);
    this.client = client;
    // mqtt.js retries at a fixed period; ahead of its own close handler, each failure doubles it.
    client.prependListener('close', () => {
      client.options.reconnectPeriod = backoffMs(this.attempt++, this.mqtt);
    });
    client.on('connect', (ack) => {
      this.attempt = 0;
      noDelay(client);
      this.setState('connected');
      this.logger.info({ url: this.mqtt.url, sessionPresent: ack.sessionPresent }, 'connected to the broker');
      // Subscribing again is harmless with a present session and needed without one.
      client.subscribe(downTopic(mn), { qos: 1 }, (err) => {
        if (err) this.logger.error({ reason: err.message }, 'cannot subscribe to the down topic');
      });
      this.uploadSerial();
      this.sender.start();
    });
    client.on('message', (_topic, payload) => {
      // One message carries one frame; a fresh decoder keeps a bad message from spoiling the next.
      const decoder = new StreamDecoder({ mode: 'lenient', ...this.codec });
      let results;
      try {
        results = [...decoder.push(payload), ...decoder.end()];
      } catch (err) {
        this.refuse('decoder-failed', { detail: (err as Error).message }, 'message from the broker undecodable');
        return;
      }
      for (const result of results) this.receive(result);
    });
    client.on('offline', () => {
      this.sender.halt();
      this.setState('waiting');
    });
    client.on('error', (err) => {
      this.noteError(err.message);
      this.logger.warn({ reason: err.message }, 'broker connection error');
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sender.halt();
    this.setState('stopped');
    await this.moving;
    await this.client?.endAsync(true);
    this.client = undefined;
  }

  protected write(frame: string): void {
    // Offline, the frame stays in the outbox and goes out after the reconnect, not twice.
    const client = this.client;
    if (!client?.connected) return;
    this.lastPublish = new Promise((resolve) =>
      client.publish(upTopic(this.linkMn), frame, { qos: 1 }, () => resolve()),
    );
  }

  /**
   * A platform's 1002 (HJ 212-2025): once the broker took the 9011/9012 (published on the old MN's up
   * topic), the session under the old MN ends (its down topic unsubscribed) and a new one starts as the
   * new MN: client id `hj212-edge-<new MN>-<uplink>`, the login following the MN where it is the MN,
   * subscribed to the new down topic. The outbox sends again from there, every record under the new MN.
   */
  protected override mnChanged(): void {
    const old = this.client;
    const from = this.linkMn;
    if (!old || this.mn === from) return;
    this.client = undefined;
    this.sender.halt();
    this.setState('connecting');
    this.moving = this.lastPublish
      .then(async () => {
        if (old.connected) await old.unsubscribeAsync(downTopic(from)).catch(() => undefined);
        await old.endAsync(false);
      })
      .catch((err: Error) => this.logger.warn({ reason: err.message }, 'closing the old MN session'))
      .then(() => {
        // stop() may have come meanwhile.
        if (this.stopped) return;
        this.logger.info({ from, to: this.mn, reason: 'set-mn' }, 'MQTT session moved to the new MN (1002)');
        this.start();
      });
  }

  protected flush(): Promise<void> {
    const client = this.client;
    if (!client?.connected) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        client.off('close', done);
        resolve();
      };
      client.on('close', done);
      void this.lastPublish.then(done);
    });
  }

  protected reconnect(): void {
    this.client?.reconnect();
  }
}
