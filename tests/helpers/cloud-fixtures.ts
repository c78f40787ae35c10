import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { stringify } from 'yaml';
import {
  CloudConfigSchema,
  hashSecret,
  startCloud,
  type Cloud,
  type CloudConfigInput,
  type CloudOptions,
  type StationInput,
} from '../../cloud/index.js';
import { StreamDecoder, type Packet } from '../../protocol/index.js';

export const WATER_MN = '0100000000A89000000000A1';
export const GAS_MN = '0100000000A89000000000B2';
export const WATER_PW = 'a1b2c3';
export const GAS_PW = 'x9y8z7';

// A low scrypt cost keeps the tests fast; production hashes use the default.
export const testHash = (secret: string): Promise<string> => hashSecret(secret, 1024);

export async function testStations(): Promise<StationInput[]> {
  return [
    {
      mn: WATER_MN,
      enterprise: '示例化工有限公司',
      outlet: 'WS-01',
      type: 'water',
      passwordHash: await testHash(WATER_PW),
      mqttSecretHash: await testHash('water-secret'),
      factors: { w01018: { upper: 50 }, w21003: { upper: 5 }, w01001: { lower: 6, upper: 9 }, w00000: {} },
    },
    {
      mn: GAS_MN,
      enterprise: '示例电厂',
      outlet: 'DA-01',
      type: 'gas',
      passwordHash: await testHash(GAS_PW),
      o2Ref: 6,
      factors: { a21026: { upper: 35 }, a21002: { upper: 50 }, a34013: { upper: 10 }, a19001: {} },
    },
  ];
}

/** Log lines as objects, to assert on the reason a packet was rejected. */
export function captureLog(onLine: (line: Record<string, unknown>) => void = () => undefined): {
  log: Logger;
  lines: Record<string, unknown>[];
} {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) {
        if (l.trim() === '') continue;
        const line = JSON.parse(l) as Record<string, unknown>;
        lines.push(line);
        onLine(line);
      }
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

export interface TestCloud {
  cloud: Cloud;
  dir: string;
  registryFile: string;
  lines: Record<string, unknown>[];
  stop(): Promise<void>;
}

/** A cloud on loopback ephemeral ports over a temp dir; `stop` removes everything it made. */
export async function startTestCloud(
  extra: Partial<CloudConfigInput> = {},
  stations?: StationInput[],
  options: CloudOptions = {},
): Promise<TestCloud> {
  const dir = await mkdtemp(join(tmpdir(), 'hj212-cloud-'));
  const registryFile = join(dir, 'stations.yaml');
  await writeFile(registryFile, stringify({ stations: stations ?? (await testStations()) }));
  // Rule timers far apart: tests drive the clock-driven checks themselves, with a scripted "now".
  const config = CloudConfigSchema.parse({
    registry: registryFile,
    state: join(dir, 'state.db'),
    store: { type: 'sqlite', path: join(dir, 'store.db') },
    tcp: { host: '127.0.0.1', port: 0 },
    ...extra,
    rules: { checkEverySeconds: 3600, ...extra.rules },
  });
  const { log, lines } = captureLog();
  const cloud = await startCloud(config, log, options);
  return {
    cloud,
    dir,
    registryFile,
    lines,
    async stop() {
      await cloud.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A raw TCP client that decodes what the cloud answers. */
export interface RawClient {
  socket: Socket;
  packets: Packet[];
  /** Resolves once `n` packets have been received in all. */
  received(n: number): Promise<Packet[]>;
  close(): void;
}

/** `from`: the local address to connect from (any of 127.0.0.0/8), to act as another source. */
export async function rawClient(port: number, from?: string): Promise<RawClient> {
  const socket = connect({ port, host: '127.0.0.1', ...(from !== undefined && { localAddress: from }) });
  await once(socket, 'connect');
  const packets: Packet[] = [];
  const decoder = new StreamDecoder({ mode: 'strict' });
  const waiters: { n: number; resolve: (p: Packet[]) => void }[] = [];
  socket.on('data', (chunk: Buffer) => {
    for (const r of decoder.push(chunk)) if (r.ok) packets.push(r.frame.packet);
    for (const w of waiters.splice(0)) {
      if (packets.length >= w.n) w.resolve(packets.slice(0, w.n));
      else waiters.push(w);
    }
  });
  return {
    socket,
    packets,
    received: (n) =>
      packets.length >= n
        ? Promise.resolve(packets.slice(0, n))
        : new Promise((resolve) => waiters.push({ n, resolve })),
    close: () => socket.destroy(),
  };
}
