import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { pino } from 'pino';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PgAlarmStore } from '../cloud/alarms/pg-store.js';
import type { Alarm } from '../cloud/alarms/store.js';
import { bucketOf, Leases, winnerOf } from '../cloud/state/leases.js';
import { loadRegistry, registryStamp, saveRegistry } from '../cloud/state/pg-registry.js';
import { hashSecret } from '../cloud/index.js';
import {
  PgAckStore,
  PgBackfillStore,
  PgFollowUpStore,
  PgShutdownStore,
  withStationState,
} from '../cloud/state/pg-stores.js';
import { migrate, MIGRATIONS } from '../cloud/state/pg-schema.js';
import { PgStateTable } from '../cloud/state/station-state.js';
import { StationKeys } from '../cloud/keys.js';
import { StationPasswords } from '../cloud/passwords.js';
import { Registry } from '../cloud/registry.js';
import type { Packet } from '../protocol/index.js';
import { ROOT, until } from './helpers/common.js';
import { freshDatabase, havePostgres, usePostgres } from './helpers/postgres.js';

const log = pino({ level: 'silent' });

describe.runIf(havePostgres())('cluster state in PostgreSQL (a real server)', () => {
  const postgres = usePostgres();
  const pool = (url: string) => postgres.pool(url);

  it('applies each migration once, in order, when several processes start at the same time', async () => {
    const url = await freshDatabase(postgres.server(), 'migrate_once');
    const three = [pool(url), pool(url), pool(url)];
    const results = await Promise.all(three.map((p) => migrate(p)));
    const all = MIGRATIONS.map((m) => m.version);
    // One of the three applied them all; the others waited on the lock and found nothing to do.
    expect(results.map((r) => r.length).sort()).toEqual([0, 0, all.length]);
    expect(results.find((r) => r.length)).toEqual(all);
    const rows = await three[0]!.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.rows.map((r) => r.version)).toEqual(all);
    expect(await migrate(three[0]!)).toEqual([]);
  });

  it('refuses a database migrated by a newer hj212, naming the versions', async () => {
    const url = await freshDatabase(postgres.server(), 'migrate_newer');
    const p = pool(url);
    await migrate(p);
    await p.query("INSERT INTO schema_migrations (version, name) VALUES (999, 'from the future')");
    await expect(migrate(p)).rejects.toThrow(/schema version 999, newer than this hj212 knows \(12\): upgrade hj212/);
  });

  it('raises an alarm once: a second open episode of a key, or the same episode again, is refused', async () => {
    const url = await freshDatabase(postgres.server(), 'alarm_once');
    const p = pool(url);
    await migrate(p);
    const insert = (opened: number) =>
      p.query(
        "INSERT INTO alarms (key, type, mn, opened_at) VALUES ('missing-hour|MN|w01018|0', 'missing-hour', 'MN', $1)",
        [opened],
      );
    await insert(0);
    await expect(insert(0)).rejects.toThrow(/duplicate key value violates unique constraint "alarms_open"/);
    await p.query('UPDATE alarms SET closed_at = 10');
    // Closed, it is still the one episode of that condition: raising it again after a failover is refused.
    await expect(insert(0)).rejects.toThrow(/duplicate key value violates unique constraint "alarms_once"/);
    await insert(3_600_000);
  });

  it("splits buckets among members, hands a killed one's over on lease expiry, gives a joiner its share", async () => {
    const url = await freshDatabase(postgres.server(), 'leases');
    const q = pool(url);
    await migrate(q);
    const BUCKETS = 16;
    const ttlMs = 1000;
    const acquired = new Map<string, number[]>();
    const member = (id: string) =>
      new Leases({
        pool: pool(url),
        id,
        ttlMs,
        renewMs: 200,
        buckets: BUCKETS,
        log,
        onAcquired: (b) => acquired.set(id, [...(acquired.get(id) ?? []), ...b]),
      });
    const [a, b, c] = [member('a'), member('b'), member('c')];
    const round = async (ms: Leases[]) => {
      for (const m of ms) await m.tick();
    };
    const holders = async () =>
      (
        await q.query<{ bucket: number; holder: string | null }>(
          'SELECT bucket, holder FROM bucket_leases WHERE expires_at > now() ORDER BY bucket',
        )
      ).rows;
    // Two rounds: in the first each member sees only those that beat before it.
    await round([a, b, c]);
    await round([a, b, c]);
    const split = (ids: string[]) =>
      Array.from({ length: BUCKETS }, (_, bucket) => ({ bucket, holder: winnerOf(bucket, ids)! }));
    expect(await holders()).toEqual(split(['a', 'b', 'c']));
    // Each holds locally exactly what the database says, no bucket twice, and was told of each it came to hold.
    const local = (ms: Leases[]) => ms.flatMap((m) => m.holding().map((bucket) => ({ bucket, holder: m.id })));
    expect(local([a, b, c]).sort((x, y) => x.bucket - y.bucket)).toEqual(split(['a', 'b', 'c']));
    for (const [id, m] of [
      ['a', a],
      ['b', b],
      ['c', c],
    ] as const)
      expect(acquired.get(id)).toEqual(expect.arrayContaining(m.holding()));

    // c is killed: it renews no more (nor hands anything back). Until its leases expire nobody takes them.
    const cHeld = c.holding();
    expect(cHeld.length).toBeGreaterThan(0);
    await round([a, b]);
    expect((await holders()).filter((h) => h.holder === 'c').map((h) => h.bucket)).toEqual(cHeld);
    // The survivors go on renewing. The first round that starts after c's leases have expired on the
    // database's clock takes every one of them: the takeover bound is ttl plus one round.
    const p = q;
    acquired.clear();
    const cLive = async () =>
      (
        await p.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM bucket_leases WHERE holder = 'c' AND expires_at > now()",
        )
      ).rows[0]!.n > 0;
    for (let rounds = 0; ; rounds++) {
      const expired = !(await cLive());
      await round([a, b]);
      const now = await holders();
      // Nothing of a's or b's own share is ever lost, and c's buckets go nowhere but to their new winner.
      for (const h of now)
        expect([winnerOf(h.bucket, ['a', 'b']), ...(cHeld.includes(h.bucket) ? ['c'] : [])]).toContain(h.holder);
      if (expired) {
        expect(now).toEqual(split(['a', 'b']));
        break;
      }
      expect(rounds).toBeLessThan(500);
      await new Promise((r) => setTimeout(r, 50));
    }
    const taken = [...(acquired.get('a') ?? []), ...(acquired.get('b') ?? [])].sort((x, y) => x - y);
    expect(taken).toEqual(cHeld);
    const epochs = await p.query<{ bucket: number; epoch: number }>(
      'SELECT bucket, epoch FROM bucket_leases WHERE bucket = ANY($1::int[]) ORDER BY bucket',
      [cHeld],
    );
    // Each of c's buckets changed hands once more than its first claim.
    expect(epochs.rows.every((r) => r.epoch >= 2)).toBe(true);

    // d joins; a and b are not restarted: they give up d's share on their next round, d claims it on its own.
    const d = member('d');
    await round([d, a, b, d]);
    expect(await holders()).toEqual(split(['a', 'b', 'd']));
    expect(d.holding()).toEqual(
      split(['a', 'b', 'd'])
        .filter((s) => s.holder === 'd')
        .map((s) => s.bucket),
    );
    expect(d.holding().length).toBeGreaterThan(0);

    // A member that stops hands its leases back at once.
    await d.stop();
    await round([a, b]);
    expect(await holders()).toEqual(split(['a', 'b']));
    const mn = '0100000000A8900000000A00';
    expect([a, b].filter((m) => m.owns(mn)).map((m) => m.id)).toEqual([winnerOf(bucketOf(mn, BUCKETS), ['a', 'b'])]);
  }, 60_000);

  // The same cases as the SQLite AlarmStore's (tests/cloud-alarms.test.ts, "alarm store"), on the shared table,
  // and what only a shared store must do: two processes raising one condition raise it once.
  describe('alarm episodes (PgAlarmStore)', () => {
    const T0 = Date.UTC(2026, 10, 20, 0, 0, 0);
    const H = 3_600_000;
    const a = {
      key: 'exceedance|A1|w01018|hour',
      type: 'exceedance',
      mn: 'A1',
      factor: 'w01018',
      kind: 'hour',
    } as const;

    it('keeps open episodes across a restart: reopened, it raises the peak and closes the same episode', async () => {
      const url = await freshDatabase(postgres.server(), 'alarms_restart');
      const firstPool = pool(url);
      const first = new PgAlarmStore(firstPool);
      await migrate(firstPool);
      // COD limit 50: 60 is 0.2 over ((60 - 50) / 50), 75 is 0.5 over, 55 is 0.1 over.
      expect(await first.open({ ...a, time: T0, value: 60, limit: 50, multiple: 0.2 })).toMatchObject({ openedAt: T0 });
      expect(await first.open({ ...a, time: T0 + H, value: 75, limit: 50, multiple: 0.5 })).toBeUndefined();
      expect(await first.isOpen(a.key)).toBe(true);
      const second = new PgAlarmStore(pool(url));
      expect(await second.isOpen(a.key)).toBe(true);
      // A second open of the key is the same episode: no new alarm, and 0.1 does not lower the peak 0.5.
      expect(await second.open({ ...a, time: T0 + 2 * H, value: 55, limit: 50, multiple: 0.1 })).toBeUndefined();
      expect(await second.close(a.key, T0 + 3 * H)).toMatchObject({ openedAt: T0, closedAt: T0 + 3 * H, peak: 0.5 });
      expect(await second.isOpen(a.key)).toBe(false);
      expect(await second.close(a.key, T0 + 4 * H)).toBeUndefined();
      expect(await second.list()).toHaveLength(1);
      expect(await first.list({ state: 'closed', mn: 'A1', from: T0, to: T0 + 1 })).toHaveLength(1);
      expect(await first.list({ state: 'open' })).toEqual([]);
      // A scoped account's list: its stations' alarms only.
      expect(await first.list({}, ['A1', 'B9'])).toHaveLength(1);
      expect(await first.list({}, ['B9'])).toEqual([]);
    });

    it('forgets an episode whose transaction rolled back, and tells watchers only of committed changes', async () => {
      const url = await freshDatabase(postgres.server(), 'alarms_rollback');
      const p = pool(url);
      const store = new PgAlarmStore(p);
      await migrate(p);
      const told: Alarm[] = [];
      store.watch((x) => told.push(x));
      const o = { key: 'offline|A1', type: 'offline', mn: 'A1', time: T0 } as const;
      await expect(
        store.atomically(async (tx) => {
          await tx.open(o);
          throw new Error('the queue write failed');
        }),
      ).rejects.toThrow('the queue write failed');
      expect(await store.isOpen(o.key)).toBe(false);
      expect(await store.list()).toEqual([]);
      expect(told).toEqual([]);
      const opened = await store.atomically((tx) => tx.open(o));
      expect(opened).toMatchObject({ type: 'offline', openedAt: T0 });
      expect(told).toEqual([opened]);
    });

    it('raises a condition once when several processes evaluate it at once, and not again once closed', async () => {
      const url = await freshDatabase(postgres.server(), 'alarms_once');
      const ps = [pool(url), pool(url), pool(url)];
      const stores = ps.map((p) => new PgAlarmStore(p));
      await migrate(ps[2]!);
      const gap = {
        key: 'missing-hour|A1|w01018|' + T0,
        type: 'missing-hour',
        mn: 'A1',
        factor: 'w01018',
        time: T0,
      } as const;
      const raised = await Promise.all(stores.map((s) => s.atomically((tx) => tx.open(gap))));
      expect(raised.filter((r) => r !== undefined)).toHaveLength(1);
      const closed = await Promise.all(stores.map((s) => s.close(gap.key, T0 + 2 * H, 'backfill')));
      expect(closed.filter((r) => r !== undefined)).toMatchObject([{ closedAt: T0 + 2 * H, closedBy: 'backfill' }]);
      // A process that took the station over and has not seen the hour arrive sweeps it again: refused.
      expect(await stores[2]!.open(gap)).toBeUndefined();
      expect(await stores[0]!.list()).toHaveLength(1);
    });
  });

  describe('shared stores', () => {
    const T0 = Date.UTC(2026, 10, 20, 0, 0, 0);
    const H = 3_600_000;

    it('keeps the latest ack, one row per follow-up change, shutdown windows and back-filled hours once', async () => {
      const url = await freshDatabase(postgres.server(), 'stores');
      const p = pool(url);
      await migrate(p);
      const alarms = new PgAlarmStore(p);
      const alarm = (await alarms.open({ key: 'offline|A1', type: 'offline', mn: 'A1', time: T0 }))!;
      const acks = new PgAckStore(p);
      // Two processes acknowledge at once; the later acknowledgement counts whichever commits last.
      await acks.add(alarm.id, { by: 'li', at: T0 + 2, comment: 'called the enterprise' });
      await acks.add(alarm.id, { by: 'wang', at: T0 + 1, comment: 'seen' });
      expect(await acks.of([alarm.id, 999])).toEqual(
        new Map([[alarm.id, { by: 'li', at: T0 + 2, comment: 'called the enterprise' }]]),
      );
      expect(await acks.of([])).toEqual(new Map());
      const trail = new PgFollowUpStore(p);
      const notified = { by: 'li', at: T0 + 3, state: 'notified', comment: '已通知企业' } as const;
      await trail.add(alarm.id, { by: 'li', at: T0 + 9, state: 'handled', comment: '已处理' });
      await trail.add(alarm.id, notified);
      await trail.add(alarm.id, notified);
      expect((await trail.of([alarm.id])).get(alarm.id)?.map((f) => f.state)).toEqual(['notified', 'handled']);
      const shutdowns = new PgShutdownStore(p);
      const w = { from: '2026-11-20T00:00:00+08:00', to: '2026-11-21T00:00:00+08:00', reason: '停产' };
      await shutdowns.add('A1', w);
      expect(await shutdowns.list('A1')).toEqual([w]);
      expect(await shutdowns.list('A2')).toEqual([]);
      const backfills = new PgBackfillStore(p);
      const late = { mn: 'A1', factor: 'w01018', time: T0, arrivedAt: T0 + 3 * H, closedAlarm: true };
      expect(await backfills.add(late)).toBe(true);
      // A resend later, on another process, does not move the hour's arrival.
      expect(await backfills.add({ ...late, arrivedAt: T0 + 5 * H, closedAlarm: false })).toBe(false);
      expect(await backfills.list('A1', T0, T0 + H)).toEqual([late]);
      expect(await backfills.list('A1', T0 + H, T0 + 2 * H)).toEqual([]);
    });

    it("serializes one station's rules across processes by its row lock, keeps nothing of a failed one", async () => {
      const url = await freshDatabase(postgres.server(), 'rule_state');
      const pools3 = [pool(url), pool(url), pool(url)];
      await migrate(pools3[0]!);
      const seen: number[] = [];
      const bump = (p: pg.Pool) =>
        withStationState(p, 'A1', async (state) => {
          const n = state.runs['n']?.count ?? 0;
          seen.push(n);
          // Yield while holding the lock: another process's evaluation must wait, not read the same n.
          await new Promise((r) => setTimeout(r, 2));
          state.runs['n'] = { value: 0, count: n + 1, time: 0 };
          return n;
        });
      await Promise.all(pools3.flatMap((p) => Array.from({ length: 10 }, () => bump(p))));
      expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
      await expect(
        withStationState(pools3[1]!, 'A1', async (state, client) => {
          await client.query("INSERT INTO alarms (key, type, mn, opened_at) VALUES ('offline|A1', 'offline', 'A1', 0)");
          state.runs['n'] = { value: 0, count: -1, time: 0 };
          throw new Error('judging failed');
        }),
      ).rejects.toThrow('judging failed');
      const after = await withStationState(pools3[2]!, 'A1', async (state) => state.runs['n']?.count);
      expect(after).toBe(30);
      expect(await new PgAlarmStore(pools3[0]!).list()).toEqual([]);
    });
  });

  it('keeps the station registry as the YAML file has it, checked by its schema, for every process', async () => {
    const url = await freshDatabase(postgres.server(), 'registry');
    const p = pool(url);
    await migrate(p);
    const station = (mn: string, upper: number) => ({
      mn,
      enterprise: 'E',
      outlet: 'WS-1',
      type: 'water',
      passwordHash,
      factors: { w01018: { upper } },
    });
    const passwordHash = await hashSecret('secret-1', 1024);
    const [A1, B1] = ['0100000000A8900000000A10', '0100000000A8900000000B10'];
    expect((await loadRegistry(p)).stations).toEqual([]);
    const before = await registryStamp(p);
    expect(await saveRegistry(p, { stations: [station(B1, 100), station(A1, 50)] }, 1)).toBe(2);
    const loaded = await loadRegistry(p);
    expect(loaded.stations.map((s) => s.mn)).toEqual([A1, B1]);
    expect(loaded.get(A1)?.factors['w01018']).toMatchObject({ upper: 50 });
    const saved = await registryStamp(p);
    expect(saved).not.toBe(before);
    // A stray key anywhere refuses the whole document, naming it, and leaves the stations as they were.
    await expect(saveRegistry(p, { stations: [{ ...station(A1, 60), colour: 'red' }] }, 2)).rejects.toThrow(/colour/);
    expect((await loadRegistry(p)).get(A1)?.factors['w01018']).toMatchObject({ upper: 50 });
    expect(await registryStamp(p)).toBe(saved);
    // Saving a registry replaces the stations: one gone, one changed.
    expect(await saveRegistry(p, { stations: [station(A1, 60)] }, 3)).toBe(1);
    expect((await loadRegistry(p)).stations.map((s) => [s.mn, s.factors['w01018']?.upper])).toEqual([[A1, 60]]);
    expect(await registryStamp(p)).toBe('1:3');
  });

  it('takes over the buckets of a member killed with SIGKILL in the first round after its leases expire', async () => {
    const url = await freshDatabase(postgres.server(), 'leases_sigkill');
    const q = pool(url);
    await migrate(q);
    const BUCKETS = 8;
    // The member to kill is a real process running the built leases module (npm run build makes dist/).
    const script = `
      import { Leases } from ${JSON.stringify(join(ROOT, 'dist/cloud/state/leases.js'))};
      import { openPg } from ${JSON.stringify(join(ROOT, 'dist/cloud/state/pg-schema.js'))};
      import { pino } from 'pino';
      const leases = new Leases({ pool: openPg(${JSON.stringify(url)}, 2), id: 'victim', ttlMs: 1000, renewMs: 200,
        buckets: ${BUCKETS}, log: pino({ level: 'silent' }) });
      await leases.start();`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: 'pipe' });
    let output = '';
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    try {
      const survivor = new Leases({
        pool: pool(url),
        id: 'survivor',
        ttlMs: 1000,
        renewMs: 200,
        buckets: BUCKETS,
        log,
      });
      const held = async (id: string) =>
        (
          await q.query<{ bucket: number }>(
            'SELECT bucket FROM bucket_leases WHERE holder = $1 AND expires_at > now() ORDER BY bucket',
            [id],
          )
        ).rows.map((r) => r.bucket);
      const victims = Array.from({ length: BUCKETS }, (_, b) => b).filter(
        (b) => winnerOf(b, ['survivor', 'victim']) === 'victim',
      );
      expect(victims.length).toBeGreaterThan(0);
      await until(async () => {
        await survivor.tick();
        return JSON.stringify(await held('victim')) === JSON.stringify(victims);
      }, `the child to hold its share (${output})`);
      child.kill('SIGKILL');
      await once(child, 'exit');
      for (let rounds = 0; ; rounds++) {
        // The killed process's leases still in force, each until its expiry (the database's clock).
        const leases = new Map(
          (
            await q.query<{ bucket: number; expires_at: Date }>(
              'SELECT bucket, expires_at FROM bucket_leases WHERE holder = $1 AND expires_at > now()',
              ['victim'],
            )
          ).rows.map((r) => [r.bucket, r.expires_at.getTime()]),
        );
        await survivor.tick();
        if (leases.size === 0) break;
        // Until they expire, the killed process's leases are nobody else's: a bucket taken in this round was taken
        // at or after its lease's expiry (a lease can run out during the round, between the read and the tick).
        const after = (await q.query<{ now: Date }>('SELECT now() AS now')).rows[0]!.now.getTime();
        for (const b of survivor.holding().filter((x) => leases.has(x)))
          expect(after, `bucket ${b} taken before its lease expired`).toBeGreaterThanOrEqual(leases.get(b)!);
        expect(rounds).toBeLessThan(500);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(survivor.holding()).toEqual(Array.from({ length: BUCKETS }, (_, b) => b));
      await survivor.stop();
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
  it('confirms a key (1014) and a PW (1072) sent through one process by the 9012 another one receives', async () => {
    const url = await freshDatabase(postgres.server(), 'station_state');
    const [p1, p2] = [pool(url), pool(url)];
    await migrate(p1);
    const log = pino({ level: 'silent' });
    const MN = '0100000000A89000000000C1';
    const KEY = 'AABBCCDDEEFF00112233445566778899';
    const registry = Registry.parse({
      stations: [
        {
          mn: MN,
          enterprise: 'E',
          outlet: 'WS',
          type: 'water',
          version: '2025',
          sm4Key: KEY,
          passwordHash: await hashSecret('p', 1024),
          factors: { w01018: {} },
        },
      ],
    });
    const hex = (k: Uint8Array | undefined) => (k ? Buffer.from(k).toString('hex').toUpperCase() : undefined);
    const node = async (p: pg.Pool) => {
      const [keys, pws] = [
        await PgStateTable.open(p, 'station_keys', log),
        await PgStateTable.open(p, 'station_passwords', log),
      ];
      const o = { now: () => Date.now(), graceMs: 600_000, log };
      return {
        tables: [keys, pws],
        keys: new StationKeys({ db: keys, registry: () => registry, qn: () => '20261206120000001', ...o }),
        passwords: new StationPasswords(pws, o),
      };
    };
    const [a, b] = [await node(p1), await node(p2)];
    const exe = (qn: string): Packet => ({
      version: '2025',
      qn,
      st: '32',
      cn: '9012',
      pw: 'p',
      mn: MN,
      flag: 4,
      cp: { params: { ExeRtn: '1' }, factors: {} },
    });
    // a issues a new key (it has heard the station); b decodes under it once a's change reaches it.
    a.keys.onPacket(MN, { ...exe('0'), cn: '2011' });
    const request = a.keys.issue(MN)!;
    const fresh = request.cp.params['NewKey']!;
    await until(() => b.keys.sm4DecodeKeys(MN).some((k) => hex(k) === fresh), 'the pending key on b');
    expect(hex(b.keys.sm4Key(MN))).toBe(KEY);
    // The logger's 9012 reaches b: the new key is in force on both.
    b.keys.onPacket(MN, exe(request.qn!));
    expect(hex(b.keys.sm4Key(MN))).toBe(fresh);
    await until(() => hex(a.keys.sm4Key(MN)) === fresh, 'the new key in force on a');
    // A 1072 through a, its 9012 through b.
    const station = { mn: MN, passwordHash: registry.get(MN)!.passwordHash };
    a.passwords.propose(MN, 'Q1', 'H-new');
    await until(() => b.passwords.hashes(station).includes('H-new'), 'the pending PW on b');
    b.passwords.onPacket(station, exe('Q1'));
    await until(() => a.passwords.hashes(station)[0] === 'H-new', 'the new PW in force on a');
    // A process started later reads both from the database.
    for (const t of [...a.tables, ...b.tables]) await t.close();
    const c = await node(pool(url));
    expect(hex(c.keys.sm4Key(MN))).toBe(fresh);
    expect(c.passwords.hashes(station)[0]).toBe('H-new');
    for (const t of c.tables) await t.close();
  });

  it('listens again after a lost LISTEN connection: reads what changed in the gap, hears what follows', async () => {
    const url = await freshDatabase(postgres.server(), 'listen_lost');
    const [p1, p2] = [pool(url), pool(url)];
    await migrate(p1);
    const lines: { reason?: string }[] = [];
    const heard = pino(
      { level: 'info' },
      { write: (l: string) => void lines.push(JSON.parse(l) as { reason?: string }) },
    );
    const a = await PgStateTable.open(p1, 'station_keys', log);
    const b = await PgStateTable.open(p2, 'station_keys', heard);
    const seen: [string, string][] = [];
    b.watch((mn, state) => seen.push([mn, state]));
    const reasons = () => lines.map((l) => l.reason);
    // The server ends every session LISTENing on the table's channel (a's and b's): as a restart would.
    const admin = await postgres.server().client();
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN station_keys'`);
    await admin.end();
    await until(() => reasons().includes('postgres-listen-lost'), "b's lost LISTEN connection logged");
    // Changed while b hears nothing: its notification is gone; b reads it once it listens again.
    a.put('MN-GAP', '{"key":"1"}');
    await a.settled();
    await until(() => seen.some(([mn]) => mn === 'MN-GAP'), 'the change made in the gap, on b');
    expect(reasons()).toContain('postgres-listen-back');
    expect(b.rows.get('MN-GAP')).toBe('{"key":"1"}');
    // Listening again: the next change is heard (once), as before the loss.
    a.put('MN-GAP', '{"key":"2"}');
    await until(() => seen.some(([, state]) => state === '{"key":"2"}'), 'the next change, heard on b');
    expect(seen).toEqual([
      ['MN-GAP', '{"key":"1"}'],
      ['MN-GAP', '{"key":"2"}'],
    ]);
    await a.close();
    await b.close();
  });
});
