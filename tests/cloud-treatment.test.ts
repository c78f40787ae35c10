import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AlarmStore,
  openSqlite,
  Registry,
  RuleEngine,
  RulesOptionsSchema,
  SqliteStore,
  type Point,
} from '../cloud/index.js';
import { judgeTreatment, TreatmentRuleSchema } from '../cloud/rules/treatment.js';
import { testHash } from './helpers/cloud-fixtures.js';

/**
 * 治污设施未运行 on hand-made ST 44 hours: production meter p01001 (kW), treatment meter p02001 (kW).
 * Production runs above 50 kW; the treatment facility counts as stopped below 10 kW.
 */
const MN = '44010000000044';
const H = 3_600_000;
const T0 = Date.parse('2026-12-01T08:00:00+08:00');
const rule = { production: [{ code: 'p01001', onAbove: 50 }], treatment: [{ code: 'p02001', minPower: 10 }] };
const hour = (time: number, production: number, treatment: number): Point[] => [
  { mn: MN, factor: 'p01001', kind: 'hour', time, values: { Avg: production }, flag: 'N' },
  { mn: MN, factor: 'p02001', kind: 'hour', time, values: { Avg: treatment }, flag: 'N' },
];

describe('治污设施未运行 rule (pure)', () => {
  const r = TreatmentRuleSchema.parse(rule);

  it('one hour of production with the treatment meter at 0 is enough at the default 60 minutes', () => {
    expect(judgeTreatment(r, hour(T0, 500, 0), T0, H, undefined)).toMatchObject({
      state: 'stopped',
      run: { since: T0, until: T0 + H },
      open: true,
    });
  });

  it('consecutive periods extend a run; a gap starts it again', () => {
    const r3 = TreatmentRuleSchema.parse({ ...rule, kind: 'minute', minutes: 30 });
    const M = 10 * 60_000;
    const first = judgeTreatment(r3, hour(T0, 500, 0), T0, M, undefined);
    expect(first).toMatchObject({ run: { since: T0, until: T0 + M }, open: false });
    const run = { since: T0, until: T0 + 2 * M };
    // 08:00-08:30 is 30 minutes: open.
    expect(judgeTreatment(r3, hour(T0 + 2 * M, 500, 0), T0 + 2 * M, M, run)).toMatchObject({
      run: { since: T0, until: T0 + 3 * M },
      open: true,
    });
    // 08:30 missing: 08:40 starts a new run.
    expect(judgeTreatment(r3, hour(T0 + 4 * M, 500, 0), T0 + 4 * M, M, run)).toMatchObject({
      run: { since: T0 + 4 * M },
      open: false,
    });
  });

  it('production off, treatment on, or a meter missing', () => {
    expect(judgeTreatment(r, hour(T0, 40, 0), T0, H, undefined)).toEqual({ state: 'normal' });
    expect(judgeTreatment(r, hour(T0, 500, 10), T0, H, undefined)).toEqual({ state: 'normal' });
    expect(judgeTreatment(r, hour(T0, 500, 0).slice(0, 1), T0, H, undefined)).toEqual({ state: 'unknown' });
  });

  it('the registry refuses a stray key and an empty meter list, naming them', () => {
    expect(() => TreatmentRuleSchema.parse({ ...rule, threshold: 3 })).toThrow(/threshold/);
    expect(() => TreatmentRuleSchema.parse({ ...rule, treatment: [] })).toThrow(/treatment-facility meter/);
  });
});

describe('治污设施未运行 episodes (rule engine)', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  it(
    'production on and treatment power 0 for 3 hours: one alarm opened ' +
      'at the first hour, closed when power returns',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'hj212-treatment-'));
      cleanup.push(() => rm(dir, { recursive: true, force: true }));
      const db = openSqlite(join(dir, 'state.db'));
      cleanup.push(async () => {
        db.close();
      });
      const alarms = new AlarmStore(db);
      const registry = Registry.parse({
        stations: [
          {
            mn: MN,
            enterprise: '示例电镀有限公司',
            outlet: 'DW-01',
            type: 'water',
            passwordHash: await testHash('44pw01'),
            factors: {},
            treatmentStopped: rule,
          },
        ],
      });
      const station = registry.get(MN)!;
      const events: string[] = [];
      const engine = new RuleEngine({
        options: RulesOptionsSchema.parse({}),
        registry: () => registry,
        store: new SqliteStore(db),
        alarms,
        notify: (event, alarm) => events.push(`${event} ${alarm.type}`),
        send: () => false,
        shutdowns: () => [],
        log: pino({ level: 'silent' }),
        now: () => T0 + 5 * H,
      });
      engine.onStored(station, hour(T0 - H, 500, 80)); // 07:00 normal
      engine.onStored(station, hour(T0, 500, 0)); // 08:00 stopped
      engine.onStored(station, hour(T0 + H, 480, 0)); // 09:00 stopped
      engine.onStored(station, hour(T0 + 2 * H, 510, 0)); // 10:00 stopped
      expect(alarms.list({ type: 'treatment-stopped' }).map((a) => [a.openedAt, a.closedAt])).toEqual([
        [T0, undefined],
      ]);
      engine.onStored(station, hour(T0 + 3 * H, 500, 75)); // 11:00 the treatment facility draws power again
      const list = alarms.list({ type: 'treatment-stopped' });
      expect(list.map((a) => [a.mn, a.openedAt, a.closedAt])).toEqual([[MN, T0, T0 + 3 * H]]);
      expect(list[0]!.detail).toBe('production p01001=500 while treatment p02001=0 < 10');
      expect(events).toEqual(['opened treatment-stopped', 'closed treatment-stopped']);
    },
  );
});
