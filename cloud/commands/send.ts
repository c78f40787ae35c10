import { request, type Packet, type Version } from '../../protocol/index.js';
import type { Via } from '../ingest/ingest.js';
import type { Station } from '../registry.js';
import { commandCp, type CommandBody } from './requests.js';
import type { CommandBook, CommandRecord } from './store.js';

/** What a recorded 1072 shows for its NewPW. */
export const PW_REDACTED = '(new PW)';

/** How the platform last heard a station: what a request to it must carry, and the transport back. */
export interface Addressed {
  via: Via;
  pw?: string;
  st?: string;
  version: Version;
}

export interface SendDeps {
  commands: Pick<CommandBook, 'nextQn' | 'add' | 'notConnected'>;
  /** The station's last accepted PW, ST, version and transport (none: never heard since start-up). */
  addressOf: (mn: string) => Addressed | undefined;
  /** Sends over the station's transport; false when it is not reachable. */
  send: (mn: string, via: Via, packet: Packet) => boolean;
  now: () => number;
}

/**
 * Sends one table-9 request to a station's logger and records it: `sent` with a deadline for its 9011,
 * or `not-connected` when the logger cannot be reached (never heard, no PW to address it with, or its
 * transport has no way back to it).
 */
export async function sendCommand(
  d: SendDeps,
  station: Station,
  body: CommandBody,
  by: string,
): Promise<CommandRecord> {
  const now = d.now();
  const qn = d.commands.nextQn(station.mn, now);
  const seen = d.addressOf(station.mn);
  const cp = commandCp(body);
  // The request is addressed as the logger addresses us: its PW, its ST, its edition (HJ 212-2017 §6.3.2).
  const packet =
    seen?.pw !== undefined
      ? request({ mn: station.mn, pw: seen.pw, st: seen.st ?? station.st, version: seen.version }, body.cn, cp.params, {
          qn,
        })
      : undefined;
  // The whole CP, factor-style fields too (3021's `<InfoId>-Info`), not only the named ones `request` takes.
  if (packet) packet.cp = cp;
  const reachable = packet !== undefined && seen !== undefined;
  // Recorded before it goes on the wire: in a cluster the answer may reach another process first,
  // which finds the request by its QN.
  const record = await d.commands.add({
    mn: station.mn,
    cn: body.cn,
    // A 1072's NewPW goes on the wire only: records are read by anyone with the read role.
    cp: body.cn === '1072' ? { params: { ...cp.params, NewPW: PW_REDACTED }, factors: {} } : cp,
    qn,
    sentAt: now,
    by,
    via: seen?.via ?? null,
    deadline: now + station.timeoutSeconds * 1000,
    state: reachable ? 'sent' : 'not-connected',
  });
  if (!reachable || d.send(station.mn, seen.via, packet)) return record;
  await d.commands.notConnected(record.id);
  return { ...record, state: 'not-connected' };
}
