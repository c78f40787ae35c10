import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { downTopic } from '../../cloud/index.js';
import { decodeFrame, encodeFrame, type Packet } from '../../protocol/index.js';
import type { TestCloud } from './cloud-fixtures.js';

/** The security suite's common parts (tests/security-*.test.ts): uploads, devices, refusals in the log. */

/** 2026-11-20 10:00 (UTC+8), the hour the suite's uploads are dated. */
export const T0 = Date.parse('2026-11-20T10:00:00+08:00');
export const HOUR_MS = 3_600_000;

let qn = 0;
/** A 2061 hour upload asking for 9014, `hours` after T0, dated DataTime (default that hour's). */
export function hourFrame(mn: string, pw: string, o: { avg?: string; hours?: number; dataTime?: string } = {}): string {
  const at = new Date(T0 + (o.hours ?? 0) * HOUR_MS + 8 * HOUR_MS);
  const stamp = at.toISOString().replace(/[-T:]/g, '').slice(0, 14);
  return encodeFrame({
    version: '2017',
    qn: `${stamp}${String(++qn % 1000).padStart(3, '0')}`,
    st: '32',
    cn: '2061',
    pw,
    mn,
    flag: 5,
    cp: { params: { DataTime: o.dataTime ?? stamp }, factors: { w01018: { Avg: o.avg ?? '1', Flag: 'N' } } },
  } satisfies Packet);
}

/** Hour points of a station in [T0, T0 + hours). */
export const storedHours = (c: TestCloud, mn: string, hours = 1): Promise<unknown[]> =>
  c.cloud.store.query({ mn, kind: 'hour', from: T0, to: T0 + hours * HOUR_MS });

/** Refusals the ingest logged, as [reason, MN, address] triples. */
export const refusals = (c: TestCloud): unknown[][] =>
  c.lines.filter((l) => l['msg'] === 'packet rejected').map((l) => [l['reason'], l['mn'], l['addr']]);

export interface Device {
  client: MqttClient;
  /** Frames received on any subscribed topic, decoded. */
  received: Packet[];
}

/** An MQTT login that subscribes to `topic` (default its own down topic) and collects what arrives. */
export async function mqttDevice(
  url: string,
  username: string,
  password: string,
  options: IClientOptions & { topic?: string } = {},
): Promise<Device> {
  const { topic, ...rest } = options;
  const client = await connectAsync(url, { username, password, reconnectPeriod: 0, ...rest });
  const received: Packet[] = [];
  client.on('message', (_t, payload) => {
    const r = decodeFrame(payload);
    if (r.ok) received.push(r.frame.packet);
  });
  await client.subscribeAsync(topic ?? downTopic(username), { qos: 1 });
  return { client, received };
}
