import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import fc from 'fast-check';
import { StreamDecoder, dataAnswer, encodeFrame, needsAck } from '../../protocol/index.js';
import type { Packet } from '../../protocol/index.js';
import { mutate, mutationArb } from './fault-frames.js';
import { reframe } from './fuzz-traffic.js';

/** A packet from the edge as the platform read it, and when (Date.now()). */
export interface Received {
  packet: Packet;
  at: number;
}

/**
 * A platform the edge dials (HJ 212 over TCP) that the test scripts byte by byte: it reads every
 * frame the edge sends, confirms uploads that ask for it with 9014 (so records leave the outbox),
 * and writes whatever bytes the test gives it to the edge's connection.
 */
export async function rawPlatform() {
  const received: Received[] = [];
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    const decoder = new StreamDecoder({ mode: 'lenient' });
    socket.on('data', (chunk: Buffer) => {
      for (const r of decoder.push(chunk)) {
        if (!r.ok) continue;
        const packet = r.frame.packet;
        received.push({ packet, at: Date.now() });
        // Uploads ask for a 9014; answers to requests (9011/9012, history records) do not.
        if (needsAck(packet.flag) && !socket.destroyed) socket.write(encodeFrame(dataAnswer(packet)));
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const current = (): Socket | undefined => sockets.filter((s) => !s.destroyed).at(-1);
  return {
    port: (server.address() as AddressInfo).port,
    received,
    connections: () => sockets.length,
    connected: () => current() !== undefined,
    /** Writes to the edge's live connection; resolves once the kernel took it. */
    write: async (bytes: Buffer | string): Promise<void> => {
      const socket = current();
      if (!socket) return;
      if (!socket.write(bytes)) await Promise.race([once(socket, 'drain'), once(socket, 'close')]);
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A data segment's header fields as written on the wire, any of them possibly empty or malformed. */
export interface RawHeader {
  qn: string;
  st: string;
  cn: string;
  pw: string;
  mn: string;
  flag: string;
}

/** A request frame from header fields and CP text, with the right length and CRC (which mutations may then spoil). */
export function requestBytes(h: RawHeader, cp: string): Buffer {
  return reframe(Buffer.from(`QN=${h.qn};ST=${h.st};CN=${h.cn};PW=${h.pw};MN=${h.mn};Flag=${h.flag};CP=&&${cp}&&`));
}

const FOREIGN_MN = 'FFFF0000A8900000000000EE';

/**
 * Requests a hostile or broken platform might send the box `mn` whose password is `pw`: right and
 * wrong MN and PW (empty, too long, another's), odd QN, ST and Flag, every command of table 9 and
 * unknown ones, history over a year or 8000 years or backwards, clock settings from year 1 to 9999,
 * out-of-range intervals, timeouts and passwords, 3021 with junk values.
 */
export function hostileRequestArb(mn: string, pw: string): fc.Arbitrary<{ header: RawHeader; cp: string }> {
  const qn = fc.oneof(
    fc.integer({ min: 0, max: 999 }).map((n) => `20250601000000${String(n).padStart(3, '0')}`),
    fc.constantFrom('', '0', '2025', '202506010000000001234', 'QNQNQN', '20250601000000123'),
  );
  const st = fc.constantFrom('32', '31', '91', '', 'Z', '999');
  const cn = fc.constantFrom(
    ...['1000', '1011', '1012', '1013', '1061', '1062', '1063', '1064', '1072', '2011', '2012', '2021', '2022'],
    ...['2031', '2041', '2051', '2061', '3011', '3019', '3020', '3021', '9011', '9012', '9013', '9014'],
    ...['0000', '1234', '9999', '2081'],
  );
  // Most carry the right MN and PW, so the fuzz reaches the commands and not only the refusals.
  const pws = fc.oneof(
    { arbitrary: fc.constant(pw), weight: 6 },
    { arbitrary: fc.constantFrom('', '123456', 'toolongpassword', pw.toLowerCase(), ' '), weight: 2 },
  );
  const mns = fc.oneof(
    { arbitrary: fc.constant(mn), weight: 6 },
    { arbitrary: fc.constantFrom('', FOREIGN_MN, mn.toLowerCase(), `${mn}00`), weight: 2 },
  );
  const flag = fc.constantFrom('5', '4', '0', '1', '9', '255', '3', '7');
  const time = fc.constantFrom(
    '20250601000000',
    '20240601000000',
    '20260601000000',
    '00010101000000',
    '99991231235959',
    '20250230000000',
    '2025060100',
    '',
    'abc',
  );
  const param = fc.oneof(
    fc.tuple(time, time).map(([b, e]) => `BeginTime=${b};EndTime=${e}`),
    time.map((t) => `SystemTime=${t}`),
    fc
      .constantFrom('0', '29', '30', '3600', '3601', '99999999999999999999', '-5', '1.5')
      .map((v) => `RtdInterval=${v}`),
    fc.constantFrom('0', '1', '7', '10', '60', '61', 'x').map((v) => `MinInterval=${v}`),
    fc
      .tuple(fc.constantFrom('0', '1', '10', '120', '121', 'x', ''), fc.constantFrom('0', '3', '10', '11', '-1'))
      .map(([t, r]) => `OverTime=${t};ReCount=${r}`),
    fc.constantFrom('', 'abc123', 'toolongpw', '中文').map((v) => `NewPW=${v}`),
    fc.constantFrom('w01018', 'w21003', '', 'PolId').map((v) => `PolId=${v}`),
    fc.constantFrom('1', 'abc', '1e999', '-0', '99999999999').map((v) => `PolId=w01018;i13001-Info=${v}`),
    fc.constantFrom('InfoId=i13004', 'InfoId=', 'x=1', 'w01018-Rtd=1.0'),
  );
  const cp = fc.array(param, { maxLength: 3 }).map((ps) => ps.join(';'));
  const header = fc.record({ qn, st, cn, pw: pws, mn: mns, flag });
  return fc.record({ header, cp });
}

/** Bytes a platform link may carry: hostile requests intact or damaged (CRC, length, truncation), binary garbage. */
export function hostileBytesArb(mn: string, pw: string): fc.Arbitrary<Buffer> {
  const intact = hostileRequestArb(mn, pw).map(({ header, cp }) => requestBytes(header, cp));
  const damaged = fc
    .tuple(intact, fc.array(mutationArb, { minLength: 1, maxLength: 3 }))
    .map(([frame, ms]) => ms.reduce(mutate, frame));
  const badCrc = intact.map((frame) => {
    const out = Buffer.from(frame);
    const at = out.length - 6;
    out.write(out.toString('latin1', at, at + 4) === '0000' ? 'FFFF' : '0000', at, 'latin1');
    return out;
  });
  const garbage = fc.uint8Array({ minLength: 1, maxLength: 2000 }).map((a) => Buffer.from(a));
  const hashes = fc.integer({ min: 1, max: 600 }).map((n) => Buffer.from('##9999'.repeat(n)));
  return fc.oneof(
    { arbitrary: intact, weight: 4 },
    { arbitrary: damaged, weight: 3 },
    { arbitrary: badCrc, weight: 1 },
    { arbitrary: garbage, weight: 1 },
    { arbitrary: hashes, weight: 1 },
  );
}
