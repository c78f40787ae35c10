import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EdgeStore } from '../edge/store/index.js';
import { decodeSettings, encodeSettings } from '../edge/store/settings.js';
import { memoryLogger } from './helpers/edge-sim.js';

const runTime = { day: 1_748_707_200_000, runMs: { m01: 3_600_000 }, last: { m01: { at: 1_748_710_800_000, rs: 1 } } };

describe('the settings record (pure)', () => {
  it('writes the state rows earlier versions wrote, and reads them back', () => {
    const rows = encodeSettings({
      rtdIntervalSeconds: 30,
      minIntervalMinutes: 5,
      runTime,
      passwords: { province: 'x1' },
    });
    expect(rows).toEqual([
      ['setting:rtdIntervalSeconds', '30'],
      ['setting:minIntervalMinutes', '5'],
      ['setting:runTime', JSON.stringify(runTime)],
      ['setting:province.pw', 'x1'],
    ]);
    const back = decodeSettings(
      rows.map(([key, value]) => ({ key, value })),
      () => expect.unreachable(),
    );
    expect(back).toEqual({ rtdIntervalSeconds: 30, minIntervalMinutes: 5, runTime, passwords: { province: 'x1' } });
  });

  it("keeps an uplink's SM4 keys after a 1014 as one JSON row, and refuses a malformed key", () => {
    const keys = {
      key: 'FEDCBA98765432100123456789ABCDEF',
      since: 1_748_707_200_000,
      previous: '0123456789ABCDEFFEDCBA9876543210',
      previousUntil: 1_748_707_800_000,
    };
    const rows = encodeSettings({ passwords: {}, sm4Keys: { province: keys } });
    expect(rows).toEqual([['setting:province.sm4Key', JSON.stringify(keys)]]);
    const rejected: string[] = [];
    const back = decodeSettings(
      [
        ...rows.map(([key, value]) => ({ key, value })),
        { key: 'setting:city.sm4Key', value: '{"key":"12AB","since":0}' },
      ],
      (name) => rejected.push(name),
    );
    expect(back).toEqual({ passwords: {}, sm4Keys: { province: keys } });
    expect(rejected).toEqual(['city.sm4Key']);
  });

  it('leaves out and reports each value its schema refuses, keeping the others', () => {
    const rejected: string[] = [];
    const back = decodeSettings(
      [
        { key: 'setting:rtdIntervalSeconds', value: 'thirty' },
        { key: 'setting:minIntervalMinutes', value: '0' },
        { key: 'setting:runTime', value: '{"day":1,"runMs":{}}' },
        { key: 'setting:colour', value: '"red"' },
        { key: 'setting:city.pw', value: '123abc' },
      ],
      (name) => rejected.push(name),
    );
    expect(rejected).toEqual(['rtdIntervalSeconds', 'minIntervalMinutes', 'runTime', 'colour']);
    expect(back).toEqual({ passwords: { city: '123abc' } });
  });
});

describe('the settings record in edge.db', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edge-settings-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const open = () => {
    const { logger, lines } = memoryLogger();
    return { store: new EdgeStore(dir, { logger, outboxBytes: new Map(), utcOffsetMinutes: 480 }), lines };
  };

  it('keeps what commands and ticks saved across a reopen; a password saved replaces only its uplink', () => {
    const { store } = open();
    store.saveSettings({ rtdIntervalSeconds: 60, passwords: { province: 'a', city: 'b' } });
    store.saveSettings({ passwords: { city: 'c' } });
    store.commitTick(
      0,
      { minutes: [], state: { cursor: 0, minutes: [], hours: [] }, records: [], settings: { runTime } },
      [],
    );
    store.close();
    const { store: again } = open();
    expect(again.readSettings()).toEqual({ rtdIntervalSeconds: 60, runTime, passwords: { province: 'a', city: 'c' } });
    again.close();
  });

  it("keeps a platform's 1000 (OverTime, ReCount) across a reopen; a stored value out of range is dropped", () => {
    const { store } = open();
    store.saveSettings({ overTimeSeconds: 120, reCount: 0 });
    store.close();
    const { store: again } = open();
    expect(again.readSettings()).toEqual({ overTimeSeconds: 120, reCount: 0, passwords: {} });
    again.close();
    const rejected: string[] = [];
    const back = decodeSettings(
      [
        { key: 'setting:overTimeSeconds', value: '121' },
        { key: 'setting:reCount', value: '11' },
      ],
      (name) => rejected.push(name),
    );
    expect([rejected, back]).toEqual([['overTimeSeconds', 'reCount'], { passwords: {} }]);
  });

  it('a damaged run-time row is logged and dropped, so that day starts over', () => {
    open().store.close();
    const db = new Database(join(dir, 'edge.db'));
    db.prepare("INSERT INTO state (key, value) VALUES ('setting:runTime', '{not json')").run();
    db.close();
    const { store, lines } = open();
    expect(store.readSettings()).toEqual({ passwords: {} });
    expect(lines.find((l) => l['reason'] === 'unreadable run-time state')).toMatchObject({ level: 40 });
    store.close();
  });
});
