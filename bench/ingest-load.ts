/** Load generators for bench/ingest.ts: N loggers, one connection each, one upload in flight each. */
import { connect, type Socket } from 'node:net';
import { connectAsync, type MqttClient } from 'mqtt';
import { downTopic, upTopic } from '../cloud/index.js';
import { encodeFrame, formatHjTime, makeQn, StreamDecoder, type Packet } from '../protocol/index.js';

const FACTORS = ['w01018', 'w21003', 'w21011', 'w21001', 'w01001', 'w01010', 'w00000', 'w00001', 'w00002', 'w00003'];

export interface Fleet {
  connected: number;
  /** One upload per logger; resolves when every one is answered. */
  round(): Promise<void>;
  /** Each logger sends its next upload when the last is answered, for `ms`; the send → answer latencies. */
  run(ms: number): Promise<number[]>;
  /**
   * Open loop: `rate` uploads a second for `ms`, in 10 ms ticks, each from the next logger with none in flight
   * (one that has one in flight is skipped, so a slow ingest sees fewer than `rate`); the latencies, and when
   * each answer came (performance.now()), in order.
   */
  paced(ms: number, rate: number): Promise<{ latencies: number[]; answeredAt: number[] }>;
  /** Uploads sent and not answered (after `run`: lost answers). */
  unanswered(): number;
  close(): Promise<void>;
}

/** The n-th upload of a logger: 2011 with ten factors and its own DataTime, so nothing overwrites. */
function upload(mn: string, pw: string, n: number): { qn: string; text: string } {
  const t = new Date(Date.UTC(2026, 0, 1) + n * 1000);
  const qn = makeQn(t);
  const factors = Object.fromEntries(
    FACTORS.map((f, i) => [f, { Rtd: (10 + i + (n % 7) / 10).toFixed(2), Flag: 'N' }]),
  );
  const p: Packet = {
    version: '2017',
    qn,
    st: '32',
    cn: '2011',
    pw,
    mn,
    flag: 5,
    cp: { params: { DataTime: formatHjTime(t) }, factors },
  };
  return { qn, text: encodeFrame(p) };
}

/** The closed loop over any transport: `send` an upload for logger i; the transport calls `answered(i, qn)`. */
let fleets = 0;

function fleet(
  n: number,
  mnOf: (i: number) => string,
  pw: string,
  send: (i: number, text: string) => void,
  close: () => Promise<void>,
): Fleet & { answered: (i: number, qn: string) => void } {
  // Each fleet's uploads get times of their own (a fleet sends fewer than 10^7 per logger), so no phase overwrites
  // another's points.
  const next = new Array<number>(n).fill(1e7 * fleets++);
  const inFlight = new Map<number, { qn: string; at: number }>();
  let onAnswer: (i: number, latency: number) => void = () => undefined;
  const fire = (i: number): void => {
    const u = upload(mnOf(i), pw, next[i]!++);
    inFlight.set(i, { qn: u.qn, at: performance.now() });
    send(i, u.text);
  };
  return {
    connected: n,
    answered(i, qn) {
      const f = inFlight.get(i);
      if (!f || f.qn !== qn) return;
      inFlight.delete(i);
      onAnswer(i, performance.now() - f.at);
    },
    round: () =>
      new Promise((resolve) => {
        let left = n;
        onAnswer = () => void (--left === 0 && resolve());
        for (let i = 0; i < n; i++) fire(i);
      }),
    unanswered: () => inFlight.size,
    run: (ms) =>
      new Promise((resolve) => {
        const latencies: number[] = [];
        const until = performance.now() + ms;
        let open = n;
        // An upload never answered must not hang the run: it is counted (unanswered) instead.
        const giveUp = setTimeout(() => resolve(latencies), ms + 30_000);
        onAnswer = (i, latency) => {
          latencies.push(latency);
          if (performance.now() < until) fire(i);
          else if (--open === 0) {
            clearTimeout(giveUp);
            resolve(latencies);
          }
        };
        for (let i = 0; i < n; i++) fire(i);
      }),
    paced: (ms, rate) =>
      new Promise((resolve) => {
        const latencies: number[] = [];
        const answeredAt: number[] = [];
        onAnswer = (_i, latency) => {
          latencies.push(latency);
          answeredAt.push(performance.now());
        };
        const t0 = performance.now();
        let due = 0;
        let cursor = 0;
        const tick = setInterval(() => {
          const elapsed = performance.now() - t0;
          if (elapsed >= ms) {
            clearInterval(tick);
            // The last answers: until every upload is answered, or 30 s.
            const end = performance.now() + 30_000;
            const wait = setInterval(() => {
              if (inFlight.size > 0 && performance.now() < end) return;
              clearInterval(wait);
              resolve({ latencies, answeredAt });
            }, 10);
            return;
          }
          // Uploads due by now, at `rate` a second from t0.
          for (const target = Math.floor((elapsed / 1000) * rate); due < target; due++)
            for (let k = 0; k < n; k++) {
              const i = cursor++ % n;
              if (inFlight.has(i)) continue;
              fire(i);
              break;
            }
        }, 10);
      }),
    close,
  };
}

/** Opens `n` connections a few hundred at a time (a burst of thousands overflows the listen backlog). */
async function inBatches<T>(n: number, open: (i: number) => Promise<T>, batch = 250): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += batch)
    out.push(...(await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, k) => open(i + k)))));
  return out;
}

export async function tcpLoggers(port: number, n: number, mnOf: (i: number) => string, pw: string): Promise<Fleet> {
  const sockets = await inBatches(
    n,
    () =>
      new Promise<Socket>((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => resolve(s));
        s.once('error', reject);
      }),
  );
  const f = fleet(
    n,
    mnOf,
    pw,
    (i, text) => sockets[i]!.write(text),
    async () => sockets.forEach((s) => s.destroy()),
  );
  sockets.forEach((s, i) => {
    const d = new StreamDecoder();
    s.on('data', (c: Buffer) => {
      for (const r of d.push(c)) if (r.ok && r.frame.packet.qn) f.answered(i, r.frame.packet.qn);
    });
  });
  return f;
}

export async function mqttLoggers(
  port: number,
  n: number,
  mnOf: (i: number) => string,
  pw: string,
  secret: string,
): Promise<Fleet> {
  const clients = await inBatches(n, async (i) => {
    const c: MqttClient = await connectAsync(`mqtt://127.0.0.1:${port}`, {
      username: mnOf(i),
      password: secret,
      clientId: mnOf(i),
      reconnectPeriod: 0,
      keepalive: 600,
    });
    await c.subscribeAsync(downTopic(mnOf(i)), { qos: 1 });
    return c;
  });
  const f = fleet(
    n,
    mnOf,
    pw,
    (i, text) => void clients[i]!.publish(upTopic(mnOf(i)), text, { qos: 1 }),
    async () => void (await Promise.all(clients.map((c) => c.endAsync(true)))),
  );
  clients.forEach((c, i) =>
    c.on('message', (_t, payload) => {
      const qn = /QN=(\d+)/.exec(payload.toString())?.[1];
      if (qn) f.answered(i, qn);
    }),
  );
  return f;
}
