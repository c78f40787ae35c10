import type { AgentHealth } from './agent/index.js';
import type { UplinkHealth } from './link.js';

/**
 * What a person reads: the health endpoint with local ISO times and values rounded as they are sent,
 * and the once-a-minute summary line of each uplink. Pure functions of the agent's health.
 */

/** `2025-06-01T08:00:00.000+08:00`: the instant in the station's local time, with its offset. */
export function isoLocal(ms: number, utcOffsetMinutes: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const local = new Date(ms + utcOffsetMinutes * 60_000).toISOString().slice(0, -1);
  const sign = utcOffsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(utcOffsetMinutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

type Presented = Record<string, unknown>;

/** The health endpoint's body: the same fields, times as local ISO strings, readings at their decimals. */
export function presentHealth(
  h: AgentHealth,
  utcOffsetMinutes: number,
  decimals: ReadonlyMap<string, number>,
): Presented {
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : isoLocal(ms, utcOffsetMinutes));
  const uplinks = Object.fromEntries(
    Object.entries(h.uplinks).map(([id, u]) => {
      const { oldestAt, ...outbox } = u.outbox;
      return [
        id,
        {
          ...u,
          since: iso(u.since),
          outbox: oldestAt === undefined ? outbox : { ...outbox, oldestUnconfirmed: iso(oldestAt) },
        },
      ];
    }),
  );
  const devices = Object.fromEntries(
    Object.entries(h.devices).map(([id, d]) => {
      const out: Presented = { ...d };
      if (d.lastOkAt !== undefined) out['lastOkAt'] = iso(d.lastOkAt);
      if (d.lastReadings)
        out['lastReadings'] = d.lastReadings.map((r) => ({
          ...r,
          // NaN (no reading yet while the device is lost) is null in JSON anyway; say so explicitly.
          value: Number.isFinite(r.value) ? Number(r.value.toFixed(decimals.get(r.code) ?? 3)) : null,
        }));
      return [id, out];
    }),
  );
  return { ...h, now: iso(h.now), uplinks, devices };
}

export interface UplinkTotals {
  sent: number;
  confirmed: number;
}

/** The fields of one uplink's summary line: what moved since the last one, and what waits. */
export function uplinkSummary(
  u: UplinkHealth,
  before: UplinkTotals | undefined,
  utcOffsetMinutes: number,
): Record<string, unknown> {
  return {
    state: u.state,
    sent: u.sent - (before?.sent ?? 0),
    confirmed: u.confirmed - (before?.confirmed ?? 0),
    outboxRecords: u.outbox.records,
    outboxBytes: u.outbox.bytes,
    inFlight: u.inFlight,
    ...(u.outbox.oldestAt !== undefined && { oldestUnconfirmed: isoLocal(u.outbox.oldestAt, utcOffsetMinutes) }),
    ...(u.lastError !== undefined && u.state !== 'connected' && { lastError: u.lastError }),
  };
}
