import { readFile } from 'node:fs/promises';
import { connectAsync, type MqttClient } from 'mqtt';
import { decodeFrame, encodeFrames, type CodecOptions, type DecodeResult, type Packet } from '../../protocol/index.js';
import { downTopic, upTopic } from '../../protocol/wire.js';

/** Where a simulated device logs in over MQTT: the broker, and its password (the username is its MN). */
export interface MqttLinkOptions {
  url: string;
  secret?: string;
  /** A PEM file of the CA that signed an mqtts:// broker's certificate (a private CA, as deploy/centre's). */
  ca?: string;
}

/**
 * HJ 212 over MQTT as our edge and cloud speak it (protocol/wire.ts): frames up on `hj212/<MN>/up`,
 * answers and requests down on `hj212/<MN>/down`, QoS 1, one frame a message. The same face as
 * FrameLink, so a simulated logger runs its flows unchanged over either.
 */
export class MqttFrameLink {
  private constructor(
    private readonly client: MqttClient,
    private readonly mn: string,
    private readonly codec: Pick<CodecOptions, 'sm4Key' | 'mode' | 'maxSegment'>,
  ) {}

  static async open(
    o: MqttLinkOptions & { mn: string; clientId: string },
    codec: Pick<CodecOptions, 'sm4Key' | 'mode' | 'maxSegment'>,
    onResult: (r: DecodeResult) => void,
    onClose: () => void,
  ): Promise<MqttFrameLink> {
    // No reconnect of mqtt.js's own: the logger redials as it does over TCP, after its reconnect wait.
    const client = await connectAsync(o.url, {
      username: o.mn,
      ...(o.secret !== undefined && { password: o.secret }),
      ...(o.ca !== undefined && { ca: await readFile(o.ca) }),
      clientId: o.clientId,
      reconnectPeriod: 0,
    });
    client.on('message', (_topic, payload) => onResult(decodeFrame(payload, codec)));
    client.on('close', onClose);
    await client.subscribeAsync(downTopic(o.mn), { qos: 1 });
    return new MqttFrameLink(client, o.mn, codec);
  }

  get isOpen(): boolean {
    return this.client.connected;
  }

  /**
   * Publishes a packet (split into PNUM/PNO parts if need be, one a message); the frames, or undefined when not
   * connected.
   */
  send(packet: Packet): string | undefined {
    if (!this.isOpen) return undefined;
    const frames = encodeFrames(packet, { ...this.codec, split: true });
    for (const f of frames) this.write(f);
    return frames.join('');
  }

  write(frame: string): boolean {
    if (!this.isOpen) return false;
    // A publish the broker never takes is an upload not acknowledged: the logger's retries cover it.
    this.client.publishAsync(upTopic(this.mn), frame, { qos: 1 }).catch(() => undefined);
    return true;
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
