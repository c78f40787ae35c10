import { describe, expect, it } from 'vitest';
import { LABEL_TABLES, labelsModule } from '../cloud/api/labels.js';

// The dashboard's browser modules are plain JavaScript (no build step); this one holds no DOM, so Node imports it.
interface Format {
  fmtTime(ms: number): string;
  fmtTick(ms: number, spanMs: number): string;
  chinaDay(ms: number): string;
  toInput(ms: number): string;
  fromInput(value: string): number;
  hjTime(ms: number): string;
  factorLabel(code: string, info: { name: string; nameEn: string } | undefined, lang: string): string;
  unitLabel(code: string, unit: string | undefined, lang: string): string;
  valueShown(code: string, unit: string | undefined, v: number | undefined): string;
  flagLabel(flag: string, lang: string): string;
  whoLabel(name: string, role: string, lang: string): string;
  rangeEnd(latestMs: number, kind: string): number;
  gasBasis(points: unknown[]): string | undefined;
  throttled(run: () => Promise<void>, periodMs: number, timer: Timer): () => void;
  stationMatches(s: { outlet: string; enterprise: string; region?: string; mn: string }, typed: string): boolean;
  useLabels(labels: unknown): void;
  markReasonLabel(reason: string, lang: string): string;
  roleLabel(role: string, lang: string): string;
  refusalParts(message: string): { path: string[] | null; reason: string }[];
}
interface Timer {
  now(): number;
  after(ms: number, fn: () => void): void;
}
const MODULE = new URL('../cloud/dashboard/static/format.js', import.meta.url).href;
const f = (await import(MODULE)) as Format;
// The names and units come from the server's one home (cloud/api/labels.ts), as app.js hands them over
// from /ui/labels.js; the assertions below check them against hand-written strings.
f.useLabels(LABEL_TABLES);
const H = 3_600_000;

describe('dashboard formatting', () => {
  it('writes 24-hour China time whatever the zone of the machine', () => {
    expect(f.fmtTime(Date.UTC(2026, 11, 3, 6, 5, 9))).toBe('2026-12-03 14:05:09');
    expect(f.fmtTime(Date.UTC(2026, 11, 3, 15, 0, 0))).toBe('2026-12-03 23:00:00');
    // Midnight is 00, never 24, and the day turns at 16:00 UTC.
    expect(f.fmtTime(Date.UTC(2026, 11, 3, 16, 30, 0))).toBe('2026-12-04 00:30:00');
    expect(f.chinaDay(Date.UTC(2026, 11, 3, 16, 30, 0))).toBe('2026-12-04');
    expect(f.fmtTick(Date.UTC(2026, 11, 3, 6, 5, 9), 12 * H)).toBe('14:05');
    // The time fields: typed and shown as 24-hour China time, read back as the same instant.
    expect(f.toInput(Date.UTC(2026, 11, 3, 13, 7, 59))).toBe('2026-12-03 21:07');
    expect(f.fromInput('2026-12-03 21:07')).toBe(Date.UTC(2026, 11, 3, 13, 7));
    expect(f.fromInput('2026-12-04T00:30')).toBe(Date.UTC(2026, 11, 3, 16, 30));
    expect(f.fromInput('12/03/2026 9:07 PM')).toBeNaN();
    expect(f.fmtTick(Date.UTC(2026, 11, 3, 6, 5, 9), 72 * H)).toBe('12-03 14:05');
    // A request's time fields (table 4, YYYYMMDDhhmmss) in China time: 16:30 UTC is 00:30 the next day.
    expect(f.hjTime(Date.UTC(2026, 11, 3, 16, 30, 5))).toBe('20261204003005');
    expect(f.hjTime(f.fromInput('2026-12-02 03:00'))).toBe('20261202030000');
  });

  it('names flows as operators read them and factors by their appendix B names, codes only where none is known', () => {
    expect(f.factorLabel('w00000', { name: '污水', nameEn: 'Wastewater (flow)' }, 'zh')).toBe('废水流量');
    expect(f.factorLabel('a00000', { name: '废气', nameEn: 'Flue gas (flow)' }, 'zh')).toBe('废气流量');
    expect(f.factorLabel('a00000', { name: '废气', nameEn: 'Flue gas (flow)' }, 'en')).toBe('Flue gas flow');
    expect(f.factorLabel('w01018', { name: '化学需氧量', nameEn: 'COD' }, 'zh')).toBe('化学需氧量');
    expect(f.factorLabel('w99999', undefined, 'zh')).toBe('w99999');
  });

  it('shows pH as 无量纲 and flue gas flow in m3/h (3600 times the m3/s it travels in)', () => {
    expect(f.unitLabel('w01001', 'dimensionless', 'zh')).toBe('无量纲');
    expect(f.unitLabel('w01001', 'dimensionless', 'en')).toBe('dimensionless');
    expect(f.unitLabel('w01018', 'mg/L', 'zh')).toBe('mg/L');
    expect(f.unitLabel('a00000', 'm3/s', 'zh')).toBe('m3/h');
    expect(f.valueShown('a00000', 'm3/s', 45.0447)).toBe('162160.92');
    expect(f.valueShown('w00000', 'L/s', 12.5)).toBe('12.5');
    expect(f.valueShown('w01018', 'mg/L', 38.12345)).toBe('38.123');
    expect(f.valueShown('w01018', 'mg/L', undefined)).toBe('');
  });

  it('names data flags (HJ 212-2017 table 8) and roles in Chinese', () => {
    expect(f.flagLabel('N', 'zh')).toBe('N 正常');
    expect(f.flagLabel('T', 'zh')).toBe('T 超测上限');
    expect(f.flagLabel('B', 'zh')).toBe('B 通讯异常');
    expect(f.flagLabel('D', 'en')).toBe('D fault');
    expect(f.flagLabel('X', 'zh')).toBe('X');
    expect(f.whoLabel('viewer', 'read', 'zh')).toBe('viewer（只读）');
    expect(f.whoLabel('ops', 'admin', 'zh')).toBe('ops（管理员）');
    expect(f.whoLabel('ops', 'admin', 'en')).toBe('ops (admin)');
  });

  it('ends a default range after the newest record: its hour, its China day', () => {
    const t = Date.UTC(2026, 11, 3, 6, 5, 9);
    expect(f.rangeEnd(t, 'hour')).toBe(Date.UTC(2026, 11, 3, 7));
    // 14:05 China time on 12-03: that day ends at 12-04 00:00 China time, 16:00 UTC.
    expect(f.rangeEnd(t, 'day')).toBe(Date.UTC(2026, 11, 3, 16));
    expect(f.rangeEnd(t, 'rtd')).toBe(t + 60_000);
  });

  it('says whether a gas chart shows 折算 or 实测 values', () => {
    expect(f.gasBasis([{ kind: 'hour', values: { Avg: 20, ZsAvg: 25 } }])).toBe('converted');
    expect(f.gasBasis([{ kind: 'rtd', values: { Rtd: 20 }, judged: { value: 26.7, state: 'normal' } }])).toBe(
      'converted',
    );
    expect(f.gasBasis([{ kind: 'hour', values: { Avg: 8.1 } }])).toBe('measured');
    expect(f.gasBasis([])).toBeUndefined();
  });

  it('refreshes at once, then at most once a period however many events come, and once after the last', async () => {
    let now = 0;
    const due: { at: number; fn: () => void }[] = [];
    const timer: Timer = { now: () => now, after: (ms, fn) => void due.push({ at: now + ms, fn }) };
    const runs: number[] = [];
    let finish: (() => void) | undefined;
    const poke = f.throttled(
      () =>
        new Promise<void>((resolve) => {
          runs.push(now);
          finish = resolve;
        }),
      2000,
      timer,
    );
    const settle = async () => {
      finish?.();
      finish = undefined;
      await new Promise((r) => setImmediate(r));
    };
    const advance = async (to: number) => {
      now = to;
      const ready = due.filter((x) => x.at <= to);
      due.splice(0, due.length, ...due.filter((x) => x.at > to));
      for (const d of ready) d.fn();
      await settle();
    };
    poke(); // leading: at once
    await settle();
    for (let t = 100; t < 2000; t += 100) {
      now = t;
      poke();
    }
    expect(runs).toEqual([0]);
    await advance(1999);
    expect(runs).toEqual([0]);
    await advance(2000); // trailing: once for the 19 pokes
    expect(runs).toEqual([0, 2000]);
    await advance(10_000); // nothing came since
    expect(runs).toEqual([0, 2000]);
    poke(); // quiet for longer than a period: at once again
    expect(runs).toEqual([0, 2000, 10_000]);
    // A poke while that run is in flight is not lost: it runs a period after the start.
    now = 10_500;
    poke();
    await settle();
    await advance(12_000);
    expect(runs).toEqual([0, 2000, 10_000, 12_000]);
  });

  it('matches a station searched by part of its name, enterprise, region or MN', () => {
    const s = {
      outlet: 'WS-01 总排口',
      enterprise: '示例化工有限公司',
      region: '城东区',
      mn: '0100000000A89000000000C3',
    };
    const matching = ['', '  ', '总排口', 'ws-01', '化工', '城东', '000c3', ' 00C3 '];
    expect(matching.map((x) => f.stationMatches(s, x))).toEqual([true, true, true, true, true, true, true, true]);
    expect(['城西区', 'DA-01', '00B2', '示例电厂'].map((x) => f.stationMatches(s, x))).toEqual([
      false,
      false,
      false,
      false,
    ]);
    // A station without a region is found by its other fields only.
    expect(f.stationMatches({ ...s, region: undefined }, '城东')).toBe(false);
  });

  it('takes its names from the server’s one home of them, the module /ui/labels.js', async () => {
    // The module the dashboard plugin serves, imported as the browser imports it.
    const served = (await import(`data:text/javascript,${encodeURIComponent(labelsModule())}`)) as {
      LABELS: unknown;
    };
    expect(served.LABELS).toEqual(JSON.parse(JSON.stringify(LABEL_TABLES)));
    expect(f.markReasonLabel('fault', 'zh')).toBe('故障');
    expect(f.markReasonLabel('stopped', 'en')).toBe('stopped');
    expect(f.roleLabel('operator', 'zh')).toBe('操作员');
    expect(f.unitLabel('x', 't/(km2·month)', 'zh')).toBe('吨/(平方千米·月)');
    expect(f.flagLabel('C', 'zh')).toBe('C 校准');
  });

  it(
    'splits an API refusal into the fields it names, and names ' + 'appendix B pollutants the registry does not list',
    () => {
      // As cloud/api/errors.ts validationMessage writes them, after api.js's "status: ".
      expect(
        f.refusalParts(
          '400: body.items.3.method: give the method (监测方法); body.lab: name the laboratory (监测机构)',
        ),
      ).toEqual([
        { path: ['items', '3', 'method'], reason: 'give the method (监测方法)' },
        { path: ['lab'], reason: 'name the laboratory (监测机构)' },
      ]);
      expect(f.refusalParts('409: plan 1 is approved already')).toEqual([
        { path: null, reason: 'plan 1 is approved already' },
      ]);
      // 悬浮物 (w01012) by hand: no info from the outlet's registry, the name from appendix B.
      expect(f.factorLabel('w01012', undefined, 'zh')).toBe('悬浮物');
      expect(f.factorLabel('w01012', undefined, 'en')).toBe('Suspended solids');
      expect(f.factorLabel('x99999', undefined, 'zh')).toBe('x99999');
    },
  );
});
