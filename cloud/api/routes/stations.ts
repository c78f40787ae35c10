import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { factor } from '../../../protocol/index.js';
import type { AlarmReader } from '../../alarms/store.js';
import type { Registry, Station } from '../../registry.js';
import type { MeasureKind } from '../../store/types.js';
import type { RuleEngine } from '../../rules/engine.js';
import { limitFor, type FactorRules } from '../../rules/judge.js';
import { alarmEvents } from '../alarm-events.js';
import { visible } from '../auth.js';
import type { StationSerials } from '../../serials.js';
import type { LiveHub } from '../live.js';
import { EnterpriseSchema, MnParams, StationViewSchema, type Networking, type StationView } from '../schemas.js';
import { stationOf } from './station.js';

/**
 * Each kind's limit and 预警 threshold, as judgePoint compares values with them (HJ 212-2017 does not set them: the
 * registry does).
 */
function chartLimits(f: FactorRules): StationView['limits'][string]['kinds'] {
  const at = (kind: MeasureKind) => {
    const l: { upper?: number; lower?: number; warning?: number } = limitFor(f, kind);
    if (l.upper !== undefined && f.warnAt < 1) l.warning = f.warnAt * l.upper;
    return l;
  };
  return { rtd: at('rtd'), minute: at('minute'), hour: at('hour'), day: at('day') };
}

/** Heard from within the station's offline threshold. */
export function isOnline(rules: Pick<RuleEngine, 'lastSeen' | 'now'>, s: Station): boolean {
  const seen = rules.lastSeen(s.mn);
  // Last-seen times are on the rules' clock, which a demo runs warped: compare on the same clock.
  return seen !== undefined && rules.now() - seen.at <= s.offlineMinutes * 60_000;
}

export interface StationsDeps {
  registry: () => Registry;
  rules: Pick<RuleEngine, 'lastSeen' | 'now'>;
  alarms: Pick<AlarmReader, 'list'>;
  live: Pick<LiveHub, 'values'>;
  serials: Pick<StationSerials, 'get'>;
}

/** `GET /stations`, `GET /stations/:mn` and `GET /enterprises`: the registry with each outlet's live status. */
export const stationsRoutes: FastifyPluginAsyncZod<StationsDeps> = async (
  app,
  { registry, rules, alarms, live, serials },
) => {
  /**
   * Open alarm events per station of `mns`: one read of the episodes for a whole list, or one per
   * station when the list's read is full (more open episodes than one read returns).
   */
  const openEvents = async (mns: readonly string[]): Promise<Map<string, number>> => {
    const LIMIT = 10_000;
    let episodes = await alarms.list({ state: 'open', limit: LIMIT }, mns);
    if (episodes.length === LIMIT)
      episodes = (await Promise.all(mns.map((mn) => alarms.list({ mn, state: 'open', limit: LIMIT })))).flat();
    const count = new Map<string, number>();
    for (const e of alarmEvents(
      episodes,
      () => new Map(),
      () => new Map(),
    ))
      count.set(e.mn, (count.get(e.mn) ?? 0) + 1);
    return count;
  };
  const view = (s: Station, open: ReadonlyMap<string, number>): StationView => {
    const seen = rules.lastSeen(s.mn);
    return {
      mn: s.mn,
      ...(s.region !== undefined && { region: s.region }),
      enterprise: s.enterprise,
      outlet: s.outlet,
      type: s.type,
      factors: Object.keys(s.factors),
      limits: Object.fromEntries(
        Object.entries(s.factors).map(([code, f]) => [
          code,
          {
            name: factor(code)?.name ?? code,
            nameEn: factor(code)?.nameEn ?? code,
            unit: f.unit,
            upper: f.upper,
            lower: f.lower,
            kinds: chartLimits(f),
          },
        ]),
      ),
      lastSeen: seen ? new Date(seen.at).toISOString() : null,
      via: seen?.via ?? null,
      online: isOnline(rules, s),
      offlineMinutes: s.offlineMinutes,
      // Events, as the alarm list shows them: a missing hour of four factors is one.
      openAlarms: open.get(s.mn) ?? 0,
      latest: live.values(s.mn),
      serial: serials.get(s.mn) ?? null,
    };
  };

  app.get(
    '/stations',
    {
      config: { role: 'read' },
      schema: { summary: 'stations with live status', response: { 200: z.array(StationViewSchema) } },
    },
    async ({ principal }) => {
      const stations = visible(principal, registry()).stations;
      const open = await openEvents(stations.map((s) => s.mn));
      return stations.map((s) => view(s, open));
    },
  );

  app.get(
    '/stations/:mn',
    {
      config: { role: 'read' },
      schema: {
        summary: 'one station with its live status and its logger’s hardware serial (HJ 212-2025 1001)',
        params: MnParams,
        response: { 200: StationViewSchema },
      },
    },
    // Out of scope: refused by scopeGuard before this runs.
    async ({ params }) => {
      const s = stationOf(registry, params.mn);
      return view(s, await openEvents([s.mn]));
    },
  );

  app.get(
    '/enterprises',
    {
      config: { role: 'read' },
      schema: {
        summary: 'networking status per enterprise: full, partial or none of its outlets online',
        response: { 200: z.array(EnterpriseSchema) },
      },
    },
    async ({ principal }) => {
      const byName = new Map<string, { enterprise: string; outlets: number; online: number }>();
      for (const s of visible(principal, registry()).stations) {
        const e = byName.get(s.enterprise) ?? { enterprise: s.enterprise, outlets: 0, online: 0 };
        byName.set(s.enterprise, e);
        e.outlets++;
        if (isOnline(rules, s)) e.online++;
      }
      return [...byName.values()].map((e) => ({
        ...e,
        networking: (e.online === e.outlets ? 'full' : e.online === 0 ? 'none' : 'partial') satisfies Networking,
      }));
    },
  );
};
