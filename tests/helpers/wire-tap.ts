import { createServer, connect, type Server, type Socket } from 'node:net';

/** A TCP proxy in front of `port`, keeping what each side sent as text. */
export async function wireTap(port: number): Promise<{
  port: number;
  up: string[];
  down: string[];
  /** The bytes of each connection, in the order they were accepted (for binary protocols: MQTT). */
  conns: { up: Buffer[]; down: Buffer[] }[];
  close(): Promise<void>;
}> {
  const up: string[] = [];
  const down: string[] = [];
  const conns: { up: Buffer[]; down: Buffer[] }[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((edge) => {
    const cloud = connect({ host: '127.0.0.1', port });
    sockets.add(edge).add(cloud);
    const conn = { up: [] as Buffer[], down: [] as Buffer[] };
    conns.push(conn);
    edge.on('data', (b: Buffer) => (up.push(b.toString()), conn.up.push(b), cloud.write(b)));
    cloud.on('data', (b: Buffer) => (down.push(b.toString()), conn.down.push(b), edge.write(b)));
    edge.on('close', () => cloud.destroy()).on('error', () => undefined);
    cloud.on('close', () => edge.destroy()).on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const at = server.address() as { port: number };
  return {
    port: at.port,
    up,
    down,
    conns,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The frames (##…CRLF) in what a side sent over HJ 212 TCP (for MQTT: mqttFrames). */
export const frames = (chunks: string[]): string[] => chunks.join('').match(/##[^\r]*\r\n/g) ?? [];

export type MqttPacket =
  | { type: 'connect'; clientId: string; username?: string }
  | { type: 'subscribe' | 'unsubscribe'; topics: string[] }
  | { type: 'publish'; topic: string; payload: string }
  | { type: 'other'; code: number };

/**
 * The MQTT 3.1.1 control packets one side of a connection sent (§2; a client's §3.1 CONNECT, §3.8 SUBSCRIBE and
 * §3.10 UNSUBSCRIBE, either side's §3.3 PUBLISH). Frames are read from the PUBLISH payloads: a regular
 * expression over the bytes could start a frame at a `#` of a packet header.
 */
export function mqttPackets(chunks: Buffer[]): MqttPacket[] {
  const b = Buffer.concat(chunks);
  const out: MqttPacket[] = [];
  let i = 0;
  while (i < b.length) {
    const code = b[i]! >> 4;
    const qos = (b[i]! >> 1) & 3;
    let len = 0;
    let mul = 1;
    let j = i + 1;
    for (;;) {
      const d = b[j++]!;
      len += (d & 127) * mul;
      mul *= 128;
      if ((d & 128) === 0) break;
    }
    // A packet cut short by the connection's end is no packet.
    if (j + len > b.length) break;
    const body = b.subarray(j, j + len);
    i = j + len;
    let k = 0;
    const str = (): string => {
      const n = body.readUInt16BE(k);
      const s = body.subarray(k + 2, k + 2 + n).toString('utf8');
      k += 2 + n;
      return s;
    };
    if (code === 1) {
      str(); // protocol name
      const flags = body[k + 1]!;
      k += 4; // level, flags, keep-alive
      const p: MqttPacket = { type: 'connect', clientId: str() };
      // A will topic and message.
      if (flags & 4) for (const _ of [0, 1]) str();
      if (flags & 128) p.username = str();
      out.push(p);
    } else if (code === 3) {
      const topic = str();
      if (qos > 0) k += 2;
      out.push({ type: 'publish', topic, payload: body.subarray(k).toString('utf8') });
    } else if (code === 8 || code === 10) {
      k = 2;
      const topics: string[] = [];
      while (k < body.length) {
        topics.push(str());
        if (code === 8) k += 1; // requested QoS
      }
      out.push({ type: code === 8 ? 'subscribe' : 'unsubscribe', topics });
    } else out.push({ type: 'other', code });
  }
  return out;
}

/** The HJ 212 frames of the PUBLISH packets in what one side of an MQTT connection sent. */
export const mqttFrames = (chunks: Buffer[]): string[] =>
  mqttPackets(chunks).flatMap((p) => (p.type === 'publish' ? [p.payload] : []));
