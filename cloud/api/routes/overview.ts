import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { chinaDay } from '../../../protocol/time.js';
import type { AlarmReader } from '../../alarms/store.js';
import type { RuleEngine } from '../../rules/engine.js';
import { ALARM_TYPES, type AlarmType } from '../../rules/judge.js';
import { pooled } from '../../rules/rates.js';
import { alarmEvents } from '../alarm-events.js';
import { periodReport, reportSource, type ReportDeps } from '../report.js';
import { OverviewSchema, type OverviewView } from '../schemas.js';
import { isOnline } from './stations.js';
import { visibleMns } from '../auth.js';

export interface OverviewDeps extends ReportDeps {
  rules: ReportDeps['rules'] & Pick<RuleEngine, 'lastSeen'>;
  alarms: Pick<AlarmReader, 'list'>;
}

/** `GET /overview`: the figures of the home page (首页), each the count of a list the dashboard links to. */
export const overviewRoutes: FastifyPluginAsyncZod<OverviewDeps> = async (app, deps) => {
  app.get(
    '/overview',
    {
      config: { role: 'read' },
      schema: {
        summary:
          'online rate, stations exceeding now, open alarm events by type, stations not reporting, ' +
          'and the effectiveness rate of today so far',
        response: { 200: OverviewSchema },
      },
    },
    async ({ principal }): Promise<OverviewView> => {
      const src = reportSource(deps, principal);
      const stations = src.registry.stations;
      const online = stations.filter((s) => isOnline(deps.rules, s));
      // Open events, not episodes: a missing hour of four factors is one open alarm, as the list shows it.
      const open = alarmEvents(
        await deps.alarms.list({ state: 'open', limit: 10_000 }, visibleMns(principal, src.registry)),
        () => new Map(),
        () => new Map(),
      );
      const openAlarms = Object.fromEntries(ALARM_TYPES.map((t) => [t, 0])) as Record<AlarmType, number>;
      for (const e of open) openAlarms[e.type]++;
      const withOpen = (type: AlarmType): string[] =>
        stations.filter((s) => open.some((e) => e.type === type && e.mn === s.mn)).map((s) => s.mn);
      const day = chinaDay(src.now);
      const today = await periodReport(src, day);
      return {
        now: src.now,
        stations: stations.length,
        online: online.length,
        onlineRate: stations.length ? online.length / stations.length : 0,
        exceedingNow: withOpen('exceedance'),
        warningNow: withOpen('warning'),
        openAlarms,
        notReporting: stations.filter((s) => !online.includes(s)).map((s) => s.mn),
        // HJ 355-2019 / HJ 75-2017: every outlet's assessed hours pooled, as an enterprise's are in the report.
        today: { day, ...pooled(today.outlets) },
      };
    },
  );
};
