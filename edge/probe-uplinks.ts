import { readFileSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { connect as connectMqtt } from 'mqtt';
import type { IClientOptions } from 'mqtt';
import { CN, QnRtn, StreamDecoder, encodeFrame, formatHjTime, qnRtn as qnRtnDef, request } from '../protocol/index.js';
import type { DecodeResult, Packet } from '../protocol/index.js';
import type { EdgeConfig, UplinkConfig } from './config.js';
import { downTopic, upTopic } from '../protocol/wire.js';
import { readFrames, writePacket } from '../protocol/link.js';

/**
 * `hj212 edge probe --uplinks`: connects to each platform once and says whether it answers and
 * whether it takes the station's MN and PW. The question is a notice every platform must answer:
 * 1013 (time calibration request, HJ 212-2017 table C.4), answered 9013; HJ/T 212-2005 has no 1013,
 * so a 2005 link uploads the logger time (1011) with the A bit and expects 9014. A platform that does
 * not know the MN or PW answers 9011 with QnRtn 4 or 3 (table 7).
 */

export type UplinkVerdict = 'answers' | 'refuses-pw' | 'refuses-mn' | 'refuses' | 'silent' | 'unreachable';

export interface ProbeUplink {
  uplink: string;
  kind: UplinkConfig['kind'];
  /** host:port or the broker URL. */
  target: string;
  mn: string;
  verdict: UplinkVerdict;
  /** What came back, e.g. `9013`, `9011 QnRtn=3 (PW error)`, or why nothing did. */
  detail: string;
}

/** What the probe sends: the question and its QN (the answer echoes it). */
function question(config: EdgeConfig, uplink: UplinkConfig, now: Date): Packet {
  const target = { mn: uplink.mn ?? config.station.mn, pw: uplink.pw, st: config.station.st, version: uplink.version };
  const opts = { now, utcOffsetMinutes: config.station.utcOffsetMinutes };
  return uplink.version === '2005'
    ? request(
        target,
        CN.GetTime,
        { SystemTime: formatHjTime(now, config.station.utcOffsetMinutes) },
        { ...opts, ack: true },
      )
    : request(target, CN.TimeCalibration, {}, opts);
}

/** The verdict an answer carries; undefined when the frame does not answer the question. */
function judge(result: DecodeResult, qn: string | undefined): Pick<ProbeUplink, 'verdict' | 'detail'> | undefined {
  if (!result.ok) return undefined;
  const p = result.frame.packet;
  // HJ/T 212-2005 answers carry the QN in the CP, later editions in the header.
  const answered = p.qn ?? p.cp.params['QN'];
  if (qn !== undefined && answered !== undefined && answered !== qn) return undefined;
  if (p.cn === CN.QnRtn) {
    const code = Number(p.cp.params['QnRtn']);
    const detail = `9011 QnRtn=${code} (${qnRtnDef(code)?.nameEn ?? 'not in table 7'})`;
    if (code === QnRtn.BadPassword) return { verdict: 'refuses-pw', detail };
    if (code === QnRtn.BadMn) return { verdict: 'refuses-mn', detail };
    return code === QnRtn.Ready ? { verdict: 'answers', detail } : { verdict: 'refuses', detail };
  }
  if (p.cn === CN.NoticeAnswer || p.cn === CN.DataAnswer) return { verdict: 'answers', detail: p.cn };
  return undefined;
}

function probeTcp(
  uplink: Extract<UplinkConfig, { kind: 'hj212-tcp' }>,
  packet: Packet,
  base: Omit<ProbeUplink, 'verdict' | 'detail'>,
): Promise<ProbeUplink> {
  const timeoutMs = uplink.timeoutSeconds * 1000;
  const key = uplink.sm4Key === undefined ? undefined : Buffer.from(uplink.sm4Key, 'hex');
  const codec = key ? { sm4Key: () => key } : {};
  return new Promise((resolve) => {
    const socket = connectTcp({ host: uplink.host, port: uplink.port });
    let connected = false;
    const done = (verdict: UplinkVerdict, detail: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...base, verdict, detail });
    };
    const timer = setTimeout(
      () =>
        connected
          ? done('silent', `connected, but no answer to ${packet.cn} within ${uplink.timeoutSeconds} s`)
          : done('unreachable', `no connection within ${uplink.timeoutSeconds} s`),
      timeoutMs,
    );
    socket.once('connect', () => {
      connected = true;
      writePacket(socket, packet, codec);
    });
    readFrames(
      socket,
      { mode: 'lenient', ...codec },
      {
        results: (results) => {
          for (const result of results) {
            const verdict = judge(result, packet.qn);
            if (verdict) return done(verdict.verdict, verdict.detail);
          }
        },
      },
    );
    socket.on('error', (err) => done(connected ? 'silent' : 'unreachable', err.message));
    socket.once('close', () => {
      if (connected) done('silent', `the platform closed the connection without answering ${packet.cn}`);
    });
  });
}

function probeMqtt(
  uplink: Extract<UplinkConfig, { kind: 'mqtt' }>,
  packet: Packet,
  base: Omit<ProbeUplink, 'verdict' | 'detail'>,
): Promise<ProbeUplink> {
  const mn = base.mn;
  const options: IClientOptions = {
    // Its own id and a clean session: the probe must not take over the running agent's session.
    clientId: `hj212-edge-${mn}-${uplink.id}-probe`,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: uplink.timeoutSeconds * 1000,
    ...(uplink.username !== undefined && { username: uplink.username }),
    ...(uplink.password !== undefined && { password: uplink.password }),
    ...(uplink.ca !== undefined && { ca: readFileSync(uplink.ca) }),
  };
  const key = uplink.sm4Key === undefined ? undefined : Buffer.from(uplink.sm4Key, 'hex');
  const codec = key ? { sm4Key: () => key } : {};
  return new Promise((resolve) => {
    const client = connectMqtt(uplink.url, options);
    let connected = false;
    const done = (verdict: UplinkVerdict, detail: string) => {
      clearTimeout(timer);
      client.end(true);
      resolve({ ...base, verdict, detail });
    };
    const timer = setTimeout(
      () =>
        connected
          ? done('silent', `connected to the broker, but no answer to ${packet.cn} within ${uplink.timeoutSeconds} s`)
          : done('unreachable', `no connection to the broker within ${uplink.timeoutSeconds} s`),
      uplink.timeoutSeconds * 1000,
    );
    client.on('connect', () => {
      connected = true;
      client.subscribe(downTopic(mn), { qos: 1 }, (err) => {
        if (err) return done('refuses', `the broker refuses the subscription to ${downTopic(mn)}: ${err.message}`);
        client.publish(upTopic(mn), encodeFrame(packet, codec), { qos: 1 });
      });
    });
    client.on('message', (_topic, payload) => {
      for (const result of new StreamDecoder({ mode: 'lenient', ...codec }).push(payload)) {
        const verdict = judge(result, packet.qn);
        if (verdict) return done(verdict.verdict, verdict.detail);
      }
    });
    client.on('error', (err) => {
      const refused = /not authori[sz]ed|bad user ?name or password/i.test(err.message);
      done(
        refused ? 'refuses-pw' : 'unreachable',
        refused ? `the broker refuses the login: ${err.message} (check username and password)` : err.message,
      );
    });
  });
}

/** Asks every uplink once, one after another. */
export async function probeUplinks(config: EdgeConfig, now: () => number = Date.now): Promise<ProbeUplink[]> {
  const out: ProbeUplink[] = [];
  for (const uplink of config.uplinks) {
    const packet = question(config, uplink, new Date(now()));
    const base = {
      uplink: uplink.id,
      kind: uplink.kind,
      target: uplink.kind === 'hj212-tcp' ? `${uplink.host}:${uplink.port}` : uplink.url,
      mn: uplink.mn ?? config.station.mn,
    };
    out.push(await (uplink.kind === 'hj212-tcp' ? probeTcp(uplink, packet, base) : probeMqtt(uplink, packet, base)));
  }
  return out;
}

const ADVICE: Record<UplinkVerdict, string> = {
  answers: 'answers; takes the MN and PW',
  'refuses-pw': 'REFUSES THE PW: ask the platform for the access password it issued to this MN (uplinks[].pw)',
  'refuses-mn': 'REFUSES THE MN: the platform has not registered this MN; check uplinks[].mn / station.mn',
  refuses: 'REFUSES the request',
  silent:
    'NO ANSWER, but no refusal either: a platform that does not answer notices (HJ 212-2017 table C.4 wants a 9013) ' +
    'may still store data; check the port and the edition (version), ' +
    "then the 9014s in the agent's uplink summary",
  unreachable: 'UNREACHABLE: check the address, the firewall and the network route',
};

export function formatUplinkProbe(uplinks: readonly ProbeUplink[]): string {
  return uplinks
    .map((u) => `uplink ${u.uplink} (${u.kind} ${u.target}, MN ${u.mn}): ${ADVICE[u.verdict]}\n  ${u.detail}\n`)
    .join('\n');
}
