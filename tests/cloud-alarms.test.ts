import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectAsync } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import {
  AlarmStore,
  BackfillStore,
  openSqlite,
  Registry,
  RuleEngine,
  RulesOptionsSchema,
  SqliteStore,
  type Alarm,
  type Point,
  type StationInput,
} from '../cloud/index.js';
import { encodeFrame, qnRtnAnswer, exeRtnAnswer, type FactorFields, type Packet } from '../protocol/index.js';
import {
  GAS_MN,
  rawClient,
  startTestCloud,
  testHash,
  testStations,
  WATER_MN,
  WATER_PW,
  type RawClient,
  type TestCloud,
} from './helpers/cloud-fixtures.js';
import { startMosquitto } from './helpers/cloud-procs.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const H = 3_600_000;
const T0 = Date.parse('2026-11-20T10:00:00+08:00');
const WATER_FACTORS = ['w01018', 'w21003', 'w01001', 'w00000'];

/** A webhook receiver: every alarm event POSTed to it, in order. */
async function webhook(): Promise<{
  url: string;
  events: { event: string; alarm: Alarm }[];
  next(n: number): Promise<void>;
}> {
  const events: { event: string; alarm: Alarm }[] = [];
  const waiters: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      events.push(JSON.parse(body) as { event: string; alarm: Alarm });
      res.end();
      for (const w of waiters.splice(0)) w();
    });
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  // The ingest's HTTP client keeps its connection alive: closing it ends the test now, not after its idle timeout.
  cleanup.push(() => new Promise((r) => (server.close(r), server.closeAllConnections())));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alarms`,
    events,
    async next(n) {
      while (events.length < n) await new Promise<void>((r) => waiters.push(r));
    },
  };
}

let qn = 0;
const hourUpload = (hour: number, factors: Record<string, FactorFields>): string =>
  encodeFrame({
    version: '2017',
    qn: `20261120100000${String(++qn % 1000).padStart(3, '0')}`,
    st: '32',
    cn: '2061',
    pw: WATER_PW,
    mn: WATER_MN,
    flag: 5,
    cp: { params: { DataTime: `20261120${String(10 + hour).padStart(2, '0')}0000` }, factors },
  } satisfies Packet);
// Within every limit (COD 50, NH3-N 5, pH 6-9): only the missing hours raise alarms.
const allFactors = (cod: string): Record<string, FactorFields> => ({
  w01018: { Avg: cod, Flag: 'N' },
  w21003: { Avg: '1.2', Flag: 'N' },
  w01001: { Avg: '7.1', Flag: 'N' },
  w00000: { Avg: '3.5', Cou: '12600', Flag: 'N' },
});

async function cloudWith(
  extra: Parameters<typeof startTestCloud>[0],
  stations?: StationInput[],
): Promise<{ c: TestCloud; client: RawClient }> {
  const c = await startTestCloud(extra, stations);
  cleanup.push(() => c.stop());
  const client = await rawClient(c.cloud.tcp!.address.port);
  cleanup.push(async () => client.close());
  return { c, client };
}

describe('exceedance episodes', () => {
  it(
    'opens one alarm for a scripted episode, tracks its peak, closes it, ' +
      'and pushes both events to a webhook and MQTT',
    async () => {
      const hook = await webhook();
      const mosq = await startMosquitto();
      cleanup.push(() => mosq.stop());
      const watcher = await connectAsync(`mqtt://127.0.0.1:${mosq.port}`, { reconnectPeriod: 0 });
      cleanup.push(() => watcher.endAsync(true));
      const pushed: string[] = [];
      watcher.on('message', (topic, payload) =>
        pushed.push(`${topic} ${(JSON.parse(payload.toString()) as { event: string }).event}`),
      );
      await watcher.subscribeAsync('hj212/alarms/#', { qos: 1 });
      const { c, client } = await cloudWith({
        rules: { webhooks: [hook.url] },
        mqtt: { mode: 'external', url: `mqtt://127.0.0.1:${mosq.port}` },
      });

      // COD limit 50: 20 (fine), 60 (over, 0.2), 75 (still over, 0.5), 30 (back under); an invalid 500 in between is
      // ignored.
      const script: [number, string, string][] = [
        [0, '20', 'N'],
        [1, '60', 'N'],
        [2, '500', 'D'],
        [3, '75', 'N'],
        [4, '30', 'N'],
      ];
      for (const [i, [hour, avg, flag]] of script.entries()) {
        client.socket.write(hourUpload(hour, { w01018: { Avg: avg, Flag: flag } }));
        await client.received(i + 1);
      }
      const alarms = c.cloud.alarms.list({ mn: WATER_MN });
      expect(alarms).toEqual([
        expect.objectContaining({
          type: 'exceedance',
          factor: 'w01018',
          kind: 'hour',
          openedAt: T0 + H,
          closedAt: T0 + 4 * H,
          value: 60,
          limit: 50,
          multiple: 0.2,
          peak: 0.5,
        }),
      ]);
      await hook.next(2);
      expect(hook.events.map((e) => [e.event, e.alarm.id])).toEqual([
        ['opened', alarms[0]!.id],
        ['closed', alarms[0]!.id],
      ]);
      while (pushed.length < 2) await new Promise((r) => setTimeout(r, 20));
      expect(pushed).toEqual([`hj212/alarms/${WATER_MN} opened`, `hj212/alarms/${WATER_MN} closed`]);
    },
  );

  it(
    'stores an alarm and its webhook event together: when the queue cannot take ' +
      'the event neither is kept, and the next data records both',
    async () => {
      const hook = await webhook();
      const { c, client } = await cloudWith({ rules: { webhooks: [hook.url] } });
      // Another connection to the state database takes the queue away, as a failing disk would.
      const side = new Database(join(c.dir, 'state.db'));
      cleanup.push(async () => side.close());
      side.exec('ALTER TABLE webhook_outbox RENAME TO webhook_outbox_away');
      client.socket.write(hourUpload(0, { w01018: { Avg: '60', Flag: 'N' } }));
      await client.received(1);
      expect(c.cloud.alarms.list({ mn: WATER_MN })).toEqual([]);
      expect(
        c.lines.find((l) => l['msg'] === 'alarm change not stored; it is made again on the next data or check'),
      ).toMatchObject({ level: 50, mn: WATER_MN, event: 'opened' });

      side.exec('ALTER TABLE webhook_outbox_away RENAME TO webhook_outbox');
      client.socket.write(hourUpload(1, { w01018: { Avg: '70', Flag: 'N' } }));
      await client.received(2);
      const alarms = c.cloud.alarms.list({ mn: WATER_MN });
      expect(alarms).toEqual([expect.objectContaining({ type: 'exceedance', factor: 'w01018', value: 70 })]);
      await hook.next(1);
      expect(hook.events.map((e) => [e.event, e.alarm.id])).toEqual([['opened', alarms[0]!.id]]);
    },
  );
});

describe('missing hours', () => {
  const rules = { graceMinutes: 20, lookbackHours: 3, requestEveryMinutes: 10 };
  const now = T0 + 3.5 * H; // 13:30: hours 11:00 and 12:00 are due

  it('detects a missing hour, asks the logger for it (2061), and closes the alarms when the data arrives', async () => {
    const hook = await webhook();
    const { c, client } = await cloudWith({ rules: { ...rules, webhooks: [hook.url] } });
    client.socket.write(hourUpload(0, allFactors('20')) + hourUpload(2, allFactors('21')));
    await client.received(2);

    await c.cloud.rules.checkMissing(now);
    const open = c.cloud.alarms.list({ mn: WATER_MN, type: 'missing-hour', state: 'open' });
    expect(open.map((a) => [a.factor, a.openedAt])).toEqual(WATER_FACTORS.map((f) => [f, T0 + H]));
    const [request] = (await client.received(3)).slice(2);
    expect(request).toMatchObject({
      cn: '2061',
      mn: WATER_MN,
      pw: WATER_PW,
      cp: { params: { BeginTime: '20261120110000', EndTime: '20261120110000' } },
    });
    // Asked once per interval, however often the check runs.
    await c.cloud.rules.checkMissing(now + 60_000);
    expect(c.lines.filter((l) => l['msg'] === 'requested missing hours (2061)')).toHaveLength(1);

    // The logger does as the standard says: 9011, the data, 9012.
    client.socket.write(
      encodeFrame(qnRtnAnswer(request!, 1)) + hourUpload(1, allFactors('19')) + encodeFrame(exeRtnAnswer(request!, 1)),
    );
    await client.received(4);
    expect(c.cloud.alarms.list({ mn: WATER_MN, type: 'missing-hour', state: 'open' })).toEqual([]);
    const closed = c.cloud.alarms.list({ mn: WATER_MN, type: 'missing-hour', state: 'closed' });
    expect(closed.map((a) => [a.factor, a.closedBy])).toEqual(WATER_FACTORS.map((f) => [f, 'backfill']));
    // The hour stays marked as back-filled (补传), with when it came: the moment its alarm closed.
    const filled = c.cloud.backfills.list(WATER_MN, T0, T0 + 3 * H).filter((b) => b.closedAlarm);
    expect(filled.map((b) => [b.factor, b.time, b.arrivedAt])).toEqual(
      [...WATER_FACTORS].sort().map((f) => [f, T0 + H, closed[0]!.closedAt]),
    );
    // The gas station never reported: monitoring has not begun, so no hour of it is missing (it is offline).
    await hook.next(8);
    const events = (mn: string, event: string): number =>
      hook.events.filter((e) => e.alarm.mn === mn && e.event === event).length;
    expect([
      events(WATER_MN, 'opened'),
      events(WATER_MN, 'closed'),
      events(GAS_MN, 'opened'),
      events(GAS_MN, 'closed'),
    ]).toEqual([4, 4, 0, 0]);
    expect(c.cloud.ingest.stats.rejected).toEqual({});
  });

  it('closes a missing hour entered by hand (flag S) as manual, not as the logger back-filling it', async () => {
    const { c, client } = await cloudWith({ rules });
    client.socket.write(hourUpload(0, allFactors('20')) + hourUpload(2, allFactors('21')));
    await client.received(2);
    await c.cloud.rules.checkMissing(now);
    const water = c.cloud.registry().get(WATER_MN)!;
    // The operator types in COD for 11:00 (POST /stations/{mn}/data stores it so).
    const entered = {
      mn: WATER_MN,
      factor: 'w01018',
      kind: 'hour' as const,
      time: T0 + H,
      values: { Avg: 19 },
      flag: 'S',
    };
    expect(await c.cloud.ingest.store(water, [entered], undefined, 'http')).toBe(true);
    const closed = c.cloud.alarms.list({ mn: WATER_MN, type: 'missing-hour', state: 'closed' });
    expect(closed.map((a) => [a.factor, a.closedBy])).toEqual([['w01018', 'manual']]);
  });

  it('counts hours from the start of monitoring: the registry date, else the first data on record', async () => {
    const [water, gas] = await testStations();
    const { c, client } = await cloudWith({ rules }, [
      water!,
      { ...gas!, monitoredSince: '2026-11-20T12:00:00+08:00' },
    ]);
    // The water station's first hour on record is 12:00, so 11:00 (before it) is not missing.
    client.socket.write(hourUpload(2, allFactors('21')));
    await client.received(1);
    await c.cloud.rules.checkMissing(now);
    expect(c.cloud.alarms.list({ mn: WATER_MN, type: 'missing-hour' })).toEqual([]);
    // The gas station was commissioned at 12:00 and sent nothing since: 12:00 is missing, 11:00 is not.
    expect(c.cloud.alarms.list({ mn: GAS_MN, type: 'missing-hour' }).map((a) => a.openedAt)).toEqual(
      Array(4).fill(T0 + 2 * H),
    );
  });

  it('does not flag hours inside a registered shutdown window, nor ask for them', async () => {
    const [water] = await testStations();
    const shutdown = { from: '2026-11-20T11:00:00+08:00', to: '2026-11-20T12:00:00+08:00', reason: '停产检修' };
    const { c, client } = await cloudWith({ rules }, [{ ...water!, shutdowns: [shutdown] }]);
    // Data at 10:00 and 12:00: 11:00 would be missing (as the first test shows) but for the window.
    client.socket.write(hourUpload(0, allFactors('20')) + hourUpload(2, allFactors('21')));
    await client.received(2);
    await c.cloud.rules.checkMissing(now);
    expect(c.cloud.alarms.list({ type: 'missing-hour' })).toEqual([]);
    expect(c.lines.filter((l) => l['msg'] === 'requested missing hours (2061)')).toEqual([]);
    // Without the window the same hour is an alarm: the window is what suppressed it.
    await c.cloud.rules.checkMissing(now + H);
    expect(c.cloud.alarms.list({ type: 'missing-hour' }).map((a) => a.openedAt)).toContain(T0 + 3 * H);
    expect(c.cloud.alarms.list({ type: 'missing-hour' }).map((a) => a.openedAt)).not.toContain(T0 + H);
  });
});

describe('offline', () => {
  it('opens an offline alarm for a silent station and closes it on its next packet', async () => {
    const { c, client } = await cloudWith({});
    c.cloud.rules.checkOffline(Date.now() + 20 * 60_000);
    expect(
      c.cloud.alarms
        .list({ type: 'offline', state: 'open' })
        .map((a) => a.mn)
        .sort(),
    ).toEqual(['0100000000A89000000000A1', '0100000000A89000000000B2']);
    client.socket.write(hourUpload(0, allFactors('20')));
    await client.received(1);
    expect(c.cloud.alarms.list({ type: 'offline', state: 'open' }).map((a) => a.mn)).toEqual([
      '0100000000A89000000000B2',
    ]);
  });
});

describe('alarm store', () => {
  it(
    'keeps its open episodes across a restart: the reopened store ' + 'raises the peak and closes the same episode',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'hj212-alarms-'));
      cleanup.push(() => rm(dir, { recursive: true, force: true }));
      const file = join(dir, 'state.db');
      const a = {
        key: 'exceedance|A1|w01018|hour',
        type: 'exceedance',
        mn: 'A1',
        factor: 'w01018',
        kind: 'hour',
      } as const;
      // COD limit 50: 60 is 0.2 over ((60 - 50) / 50), 75 is 0.5 over, 55 is 0.1 over.
      const firstDb = openSqlite(file);
      const first = new AlarmStore(firstDb);
      expect(first.open({ ...a, time: T0, value: 60, limit: 50, multiple: 0.2 })).toMatchObject({ openedAt: T0 });
      first.open({ ...a, time: T0 + H, value: 75, limit: 50, multiple: 0.5 });
      expect(first.isOpen(a.key)).toBe(true);
      firstDb.close();

      const db = openSqlite(file);
      cleanup.push(async () => db.close());
      const second = new AlarmStore(db);
      expect(second.isOpen(a.key)).toBe(true);
      // A second open of the key is the same episode: no new alarm, and 0.1 does not lower the peak 0.5.
      expect(second.open({ ...a, time: T0 + 2 * H, value: 55, limit: 50, multiple: 0.1 })).toBeUndefined();
      expect(second.close(a.key, T0 + 3 * H)).toMatchObject({ openedAt: T0, closedAt: T0 + 3 * H, peak: 0.5 });
      expect(second.isOpen(a.key)).toBe(false);
      expect(second.close(a.key, T0 + 4 * H)).toBeUndefined();
      expect(second.list()).toHaveLength(1);
    },
  );

  it('forgets an episode whose transaction rolled back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hj212-alarms-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const db = openSqlite(join(dir, 'state.db'));
    cleanup.push(async () => db.close());
    const store = new AlarmStore(db);
    const a = { key: 'offline|A1', type: 'offline', mn: 'A1', time: T0 } as const;
    expect(() =>
      store.atomically(() => {
        store.open(a);
        throw new Error('the queue write failed');
      }),
    ).toThrow('the queue write failed');
    expect(store.isOpen(a.key)).toBe(false);
    expect(store.list()).toEqual([]);
    expect(store.open(a)).toMatchObject({ type: 'offline', openedAt: T0 });
  });
});

/**
 * Counts the transactions of a state database: the batches' own BEGIN and each top-level
 * `db.transaction` (a nested one is a savepoint of the transaction it runs in).
 */
function countTransactions(db: Database.Database): { count: number } {
  const counter = { count: 0 };
  const exec = db.exec.bind(db);
  db.exec = (sql: string) => {
    if (sql === 'BEGIN') counter.count++;
    return exec(sql);
  };
  const transaction = db.transaction.bind(db);
  db.transaction = ((fn: (...args: unknown[]) => unknown) => {
    const tx = transaction(fn);
    return ((...args: unknown[]) => {
      if (!db.inTransaction) counter.count++;
      return tx(...args);
    }) as unknown as typeof tx;
  }) as typeof db.transaction;
  return counter;
}

describe('alarm changes of one upload (AlarmStore.batch)', () => {
  async function stateDb(): Promise<Database.Database> {
    const dir = await mkdtemp(join(tmpdir(), 'hj212-batch-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const db = openSqlite(join(dir, 'state.db'));
    cleanup.push(async () => db.close());
    return db;
  }
  const offline = (mn: string) => ({ key: `offline|${mn}`, type: 'offline', mn, time: T0 }) as const;

  it(
    'shares one transaction begun at the first change, tells watchers ' +
      'once it commits, and begins none without a change',
    async () => {
      const db = await stateDb();
      // Counted from before the store is made: it takes its transaction function once.
      const tx = countTransactions(db);
      const store = new AlarmStore(db);
      const told: string[] = [];
      store.watch((a) => told.push(`${a.mn} ${a.closedAt === undefined ? 'open' : 'closed'}`));
      store.batch(() => {
        // No episode of the key is open: nothing to write (the rules ask isOpen before a transaction).
        expect(store.close('offline|A1', T0)).toBeUndefined();
        expect(db.inTransaction).toBe(false);
        store.atomically(() => store.open(offline('A1')));
        store.atomically(() => store.open(offline('A2')));
        expect(db.inTransaction).toBe(true);
        expect(told).toEqual([]);
      });
      expect(tx.count).toBe(1);
      expect(db.inTransaction).toBe(false);
      expect(told).toEqual(['A1 open', 'A2 open']);
      expect([store.hasOpen('A1'), store.hasOpen('A2'), store.hasOpen('A3')]).toEqual([true, true, false]);
      // What the rules ask before a change: an episode already open, or none to close, writes nothing.
      store.batch(() => {
        expect(store.wouldOpen(offline('A1'))).toBe(false);
        expect(store.open(offline('A1'))).toBeUndefined();
        expect(store.close('offline|A3', T0)).toBeUndefined();
      });
      expect(tx.count).toBe(1);
      store.batch(() => {
        store.atomically(() => store.close('offline|A1', T0 + H));
        store.atomically(() => store.close('offline|A2', T0 + H));
      });
      expect(tx.count).toBe(2);
      expect(told).toEqual(['A1 open', 'A2 open', 'A1 closed', 'A2 closed']);
      expect([store.hasOpen('A1'), store.hasOpen('A2')]).toEqual([false, false]);
      expect(store.list().map((a) => [a.mn, a.closedAt])).toEqual([
        ['A1', T0 + H],
        ['A2', T0 + H],
      ]);
    },
  );

  it('undoes a change that fails alone, as its own transaction would have been, and commits the others', async () => {
    const db = await stateDb();
    const store = new AlarmStore(db);
    const told: string[] = [];
    store.watch((a) => told.push(a.mn));
    store.batch(() => {
      store.atomically(() => store.open(offline('A1')));
      expect(() =>
        store.atomically(() => {
          store.open(offline('A2'));
          throw new Error('the queue write failed');
        }),
      ).toThrow('the queue write failed');
      expect(store.isOpen('offline|A2')).toBe(false);
      store.atomically(() => store.open(offline('A3')));
    });
    expect(told).toEqual(['A1', 'A3']);
    expect(store.list().map((a) => a.mn)).toEqual(['A1', 'A3']);
    expect(['A1', 'A2', 'A3'].map((mn) => store.isOpen(`offline|${mn}`))).toEqual([true, false, true]);
    expect(['A1', 'A2', 'A3'].map((mn) => store.hasOpen(mn))).toEqual([true, false, true]);
  });

  it('a failed COMMIT undoes every change of the batch: nothing is told, and the store forgets them', async () => {
    const db = await stateDb();
    const store = new AlarmStore(db);
    // A deferred foreign key fails at COMMIT, as a disk that refuses the journal would.
    db.pragma('foreign_keys = ON');
    db.exec(`CREATE TABLE parent (id INTEGER PRIMARY KEY);
      CREATE TABLE child (parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)`);
    const told: string[] = [];
    store.watch((a) => told.push(a.mn));
    const errors: string[] = [];
    store.batch(
      () => {
        store.atomically(() => store.open(offline('A1')));
        store.write(() => db.prepare('INSERT INTO child VALUES (99)').run());
      },
      (e) => errors.push(e.message),
    );
    expect(errors).toEqual(['FOREIGN KEY constraint failed']);
    expect(db.inTransaction).toBe(false);
    expect(told).toEqual([]);
    expect(store.isOpen('offline|A1')).toBe(false);
    expect(store.hasOpen('A1')).toBe(false);
    expect(store.list()).toEqual([]);
    expect(() => store.batch(() => store.write(() => db.prepare('INSERT INTO child VALUES (99)').run()))).toThrow(
      'FOREIGN KEY constraint failed',
    );
  });

  it(
    'the rules record the alarms of a 10-factor upload in one ' +
      'transaction, and none for an upload that changes nothing',
    async () => {
      const db = await stateDb();
      const tx = countTransactions(db);
      const alarms = new AlarmStore(db);
      const backfills = new BackfillStore(db);
      const factors = [
        'w01018',
        'w21003',
        'w21011',
        'w21001',
        'w01001',
        'w01010',
        'w00000',
        'w00001',
        'w00002',
        'w00003',
      ];
      const registry = Registry.parse({
        stations: [
          {
            mn: WATER_MN,
            enterprise: 'E',
            outlet: 'WS-01',
            type: 'water',
            passwordHash: await testHash(WATER_PW),
            factors: Object.fromEntries(factors.map((f) => [f, { unit: 'mg/L', upper: 100 }])),
          },
        ],
      });
      const station = registry.get(WATER_MN)!;
      let now = T0;
      const events: string[] = [];
      const engine = new RuleEngine({
        options: RulesOptionsSchema.parse({}),
        registry: () => registry,
        store: new SqliteStore(db),
        alarms,
        backfills,
        notify: (event, a) => events.push(`${event} ${a.type} ${a.factor}`),
        send: () => false,
        shutdowns: () => [],
        log: pino({ level: 'silent' }),
        now: () => now,
      });
      const upload = (time: number, value: (i: number) => number): Point[] =>
        factors.map((factor, i) => ({
          mn: WATER_MN,
          factor,
          kind: 'hour',
          time,
          values: { Avg: value(i) },
          flag: 'N',
        }));
      engine.onStored(
        station,
        upload(T0, () => 50),
      );
      expect(tx.count).toBe(0);
      // Every factor over its limit, one of them negative too.
      now = T0 + H;
      engine.onStored(
        station,
        upload(T0 + H, (i) => (i === 0 ? -1 : 150)),
      );
      expect(tx.count).toBe(1);
      expect(alarms.list({ state: 'open' })).toHaveLength(10);
      expect(events.filter((e) => e.startsWith('opened exceedance'))).toHaveLength(9);
      expect(events).toContain('opened negative w01018');
      now = T0 + 2 * H;
      engine.onStored(
        station,
        upload(T0 + 2 * H, (i) => (i === 0 ? -1 : 150)),
      );
      expect(tx.count).toBe(1);
      // A late hour marked back-filled, and every alarm closed: one transaction again.
      now = T0 + 5 * H;
      engine.onStored(
        station,
        upload(T0 + 3 * H, () => 50),
      );
      expect(tx.count).toBe(2);
      expect(alarms.list({ state: 'open' })).toEqual([]);
      expect(alarms.list().map((a) => [a.type, a.openedAt, a.raisedAt, a.closedAt])).toEqual([
        ['negative', T0 + H, T0 + H, T0 + 3 * H],
        ...factors.slice(1).map(() => ['exceedance', T0 + H, T0 + H, T0 + 3 * H]),
      ]);
      expect(backfills.list(WATER_MN, 0, T0 + 10 * H)).toHaveLength(10);
      // Never heard from since the rules started: the sweep opens its offline alarm, once.
      engine.checkOffline(now);
      engine.checkOffline(now + H);
      expect(tx.count).toBe(3);
      expect(alarms.list({ state: 'open' }).map((a) => a.type)).toEqual(['offline']);
    },
  );
});
