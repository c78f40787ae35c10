import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, type DecodeResult, type Packet } from '../protocol/index.js';
import { readFrames, writePacket } from '../protocol/link.js';

const PACKET: Packet = {
  version: '2017',
  qn: '20261120120000000',
  st: '32',
  cn: '2011',
  pw: '123456',
  mn: '010000A8900016F000169DC0',
  flag: 5,
  cp: { params: { DataTime: '20261120120000' }, factors: { w01018: { Rtd: '35.2', Flag: 'N' } } },
};

const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).forEach((c) => c()));

/** A loopback server whose first connection is read with readFrames; resolves the results once it closes. */
async function serve(): Promise<{ port: number; results: Promise<DecodeResult[]>; server: Promise<Socket> }> {
  const got: DecodeResult[] = [];
  let socketOf: (s: Socket) => void = () => undefined;
  const server = createServer((s) => {
    s.on('error', () => undefined); // the reset the first test makes
    readFrames(s, { mode: 'lenient' }, { results: (rs) => got.push(...rs) });
    socketOf(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => server.close());
  const accepted = new Promise<Socket>((resolve) => (socketOf = resolve));
  const results = accepted.then(async (s) => {
    // events.once would reject on the reset's 'error'; 'close' follows it.
    if (!s.closed) await new Promise((resolve) => s.on('close', resolve));
    return got;
  });
  return { port: (server.address() as AddressInfo).port, results, server: accepted };
}

describe('the TCP frame link our edge, cloud and simulators share', () => {
  it('reads a frame split over writes, and reports the half frame a reset leaves as truncated', async () => {
    const { port, results, server } = await serve();
    const frame = encodeFrame(PACKET);
    const client = connect(port, '127.0.0.1');
    await once(client, 'connect');
    client.write(frame.slice(0, 20));
    client.write(frame.slice(20) + frame.slice(0, 30));
    // The reset must come after the server has read every byte (frame.length + 30 of them).
    const s = await server;
    while (s.bytesRead < frame.length + 30) await once(s, 'data');
    client.resetAndDestroy();
    const got = await results;
    expect(got.map((r) => (r.ok ? r.frame.packet.cn : r.error.code))).toEqual(['2011', 'truncated']);
  });

  it('writes a packet as one frame, and nothing to a closed socket', async () => {
    const { port, server } = await serve();
    const client = connect(port, '127.0.0.1');
    await once(client, 'connect');
    const s = await server;
    const chunks: Buffer[] = [];
    client.on('data', (c: Buffer) => chunks.push(c));
    const written = writePacket(s, PACKET);
    expect(written).toBe(encodeFrame(PACKET));
    s.end();
    await once(client, 'end');
    const back = decodeFrame(Buffer.concat(chunks).toString());
    expect(back.ok && back.frame.packet.cp.factors['w01018']).toEqual({ Rtd: '35.2', Flag: 'N' });
    await once(s, 'close');
    expect(writePacket(s, PACKET)).toBeUndefined();
    client.destroy();
  });
});
