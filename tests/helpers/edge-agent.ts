import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { pino } from 'pino';
import { parseEdgeConfig } from '../../edge/index.js';
import type { EdgeConfig, EdgeConfigInput } from '../../edge/index.js';
import { StreamDecoder } from '../../protocol/index.js';
import type { Packet } from '../../protocol/index.js';
import type { CodecOptions } from '../../protocol/types.js';
import { PlatformConfigSchema, PlatformServer } from '../../simulators/platform/index.js';
import type { ExchangeRecord } from '../../simulators/platform/index.js';
import { tempDir as commonTempDir } from './common.js';
import { SIM_START } from './edge-sim.js';

export const MN = '010000A8900016F000169DC0';
export const PW = 'a1B2c3';

/** The most real time one reading of a warped clock counts (see warpedClock). */
const WARP_STEP_MS = 50;

/**
 * A clock `warp` times faster than real time from SIM_START: at 1200 an hour takes 3 s. It counts at
 * most 50 ms of real time between two readings, so while the process is held up (a GC, an fsync on a
 * busy disk) simulated time waits too, instead of jumping past minutes the pollers never saw. The
 * agents, the cloud and the tests read it every few milliseconds, so otherwise it runs at `warp`.
 */
export function warpedClock(warp: number, start = SIM_START): () => number {
  // (A clock shared with child processes is wallWarpedClock's: they compute it from the wall too.)
  let real = Date.now();
  let simulated = start;
  return () => {
    const now = Date.now();
    simulated += Math.min(Math.max(0, now - real), WARP_STEP_MS) * warp;
    real = now;
    return simulated;
  };
}

/**
 * The clock of edge-child.ts: `warp` times real time from `realStart`, read off the wall, so a test and the
 * processes it spawns with the same timing agree on it at any moment.
 */
export function wallWarpedClock(warp: number, start: number, realStart: number): () => number {
  return () => start + (Date.now() - realStart) * warp;
}

/** The platform simulator on a loopback port, recording every upload (by QN) and finished exchange. */
export async function startPlatform(
  port = 0,
  now?: () => number,
  station: { mn?: string; version?: '2005' | '2017' | '2025'; sm4Key?: string } = {},
) {
  const server = new PlatformServer(
    PlatformConfigSchema.parse({
      port,
      stations: [{ mn: MN, pw: PW, st: '32', version: '2017', ...station }],
      requestTimeout: 5000,
    }),
    {
      log: pino({ level: 'silent' }),
      ...(now && { now }),
    },
  );
  const uploads: { cn: string; st?: string; qn?: string; cp: Packet['cp'] }[] = [];
  const exchanges: ExchangeRecord[] = [];
  server.on('upload', (u) => uploads.push(u));
  server.on('exchange', (e) => exchanges.push(e));
  await server.listen();
  return { server, uploads, exchanges, port: server.port };
}

/** A temporary data directory, removed by the returned cleanup (the shared helper's, named for the edge). */
export const tempDir = (prefix = 'hj212-edge-'): ReturnType<typeof commonTempDir> => commonTempDir(prefix);

/**
 * A water outlet polling the simulator's COD (unit 1) and flow meter (unit 4) on `modbusPort`, fast
 * enough for a warped clock, sending to the platform on `platformPort`.
 */
export function waterOutlet(
  dataDir: string,
  modbusPort: number,
  platformPort: number,
  over: Partial<EdgeConfigInput> = {},
): EdgeConfig {
  const device = (id: string, unit: number, code: string) => ({
    id,
    bus: 'line',
    unit,
    pollSeconds: 0.02,
    status: { address: 2 },
    factors: [{ code, value: { address: 0 }, decimals: 2 }],
  });
  return parseEdgeConfig({
    station: { mn: MN, st: '32', kind: 'water', flow: { code: 'w00000', unit: 'L/s' } },
    rtdIntervalSeconds: 60,
    minIntervalMinutes: 10,
    dataDir,
    buses: [{ id: 'line', kind: 'tcp', host: '127.0.0.1', port: modbusPort, timeoutMs: 200, backoffMaxSeconds: 0.5 }],
    devices: [
      { ...device('cod', 1, 'w01018'), parameters: [{ info: 'i13001', address: 12 }], parametersPollSeconds: 0.2 },
      device('flow', 4, 'w00000'),
    ],
    uplinks: [
      {
        id: 'province',
        kind: 'hj212-tcp',
        host: '127.0.0.1',
        port: platformPort,
        pw: PW,
        timeoutSeconds: 1,
        retries: 2,
        reconnectMinSeconds: 0.1,
        reconnectMaxSeconds: 0.5,
      },
    ],
    ...over,
  });
}

/** One connection the edge made to a {@link recordingPlatform}: every frame it sent, decoded. */
export interface RecordedConnection {
  socket: Socket;
  packets: Packet[];
  closed: boolean;
}

/**
 * A platform that records every frame of each connection the edge makes and answers none (no 9014)
 * unless the test writes to the socket; `codec` decodes a 2025 station's SM4 CP. Closed by `cleanups`.
 */
export async function recordingPlatform(
  cleanups: (() => Promise<unknown>)[],
  codec: Pick<CodecOptions, 'sm4Key'> = {},
): Promise<{ port: number; conns: RecordedConnection[] }> {
  const conns: RecordedConnection[] = [];
  const server = createServer((socket) => {
    const conn: RecordedConnection = { socket, packets: [], closed: false };
    conns.push(conn);
    socket.on('error', () => undefined);
    socket.on('close', () => (conn.closed = true));
    const decoder = new StreamDecoder({ mode: 'lenient', ...codec });
    socket.on('data', (chunk: Buffer) => {
      for (const r of decoder.push(chunk)) if (r.ok) conn.packets.push(r.frame.packet);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    for (const c of conns) c.socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, conns };
}
