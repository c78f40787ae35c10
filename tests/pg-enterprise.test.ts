import Database from 'better-sqlite3';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteMarkStore } from '../cloud/marks.js';
import { OmRecordStore } from '../cloud/om-records.js';
import { PlanStore } from '../cloud/plans.js';
import { RegistrationStore } from '../cloud/registrations.js';
import { ShutdownStore } from '../cloud/shutdowns.js';
import { SupervisionStore } from '../cloud/supervision.js';
import { InstrumentStore } from '../cloud/instruments.js';
import { PgInstrumentStore } from '../cloud/state/pg-instruments.js';
import {
  PgMarkStore,
  PgOmRecordStore,
  PgPlanStore,
  PgRegistrationStore,
  PgSupervisionStore,
} from '../cloud/state/pg-enterprise.js';
import { migrate, MIGRATIONS } from '../cloud/state/pg-schema.js';
import { PgShutdownStore } from '../cloud/state/pg-stores.js';
import { sha256 } from '../cloud/index.js';
import { startTestCloud, WATER_MN, type TestCloud } from './helpers/cloud-fixtures.js';
import { startMosquitto, TOOLS, type Proc } from './helpers/common.js';
import { ENTERPRISE_EXPECTATIONS, type EnterpriseStores } from './helpers/enterprise-stores.js';
import { freshDatabase, havePostgres, usePostgres } from './helpers/postgres.js';

/** The SQLite stores on one in-memory state database. */
function sqliteStores(): EnterpriseStores & { close(): void } {
  const db = new Database(':memory:');
  const shutdowns = new ShutdownStore(db);
  return {
    shutdowns,
    marks: new SqliteMarkStore(db),
    registrations: new RegistrationStore(db, shutdowns),
    omRecords: new OmRecordStore(db),
    plans: new PlanStore(db),
    supervision: new SupervisionStore(db),
    instruments: new InstrumentStore(db),
    close: () => db.close(),
  };
}

function pgStores(pool: pg.Pool): EnterpriseStores {
  return {
    shutdowns: new PgShutdownStore(pool),
    marks: new PgMarkStore(pool),
    registrations: new PgRegistrationStore(pool),
    omRecords: new PgOmRecordStore(pool),
    plans: new PgPlanStore(pool),
    supervision: new PgSupervisionStore(pool),
    instruments: new PgInstrumentStore(pool),
  };
}

describe('enterprise stores in the state database (SQLite)', () => {
  for (const [name, expectation] of Object.entries(ENTERPRISE_EXPECTATIONS))
    it(name, async () => {
      const stores = sqliteStores();
      try {
        await expectation(stores);
      } finally {
        stores.close();
      }
    });
});

describe.runIf(havePostgres())('enterprise stores in a cluster’s PostgreSQL (a real server)', () => {
  const postgres = usePostgres();
  let n = 0;
  /** A pool on a fresh database migrated to the last version. */
  const fresh = async (): Promise<pg.Pool> => {
    const p = postgres.pool(await freshDatabase(postgres.server(), `enterprise_${++n}`));
    await migrate(p);
    return p;
  };

  for (const [name, expectation] of Object.entries(ENTERPRISE_EXPECTATIONS))
    it(`${name}: as in SQLite`, async () => {
      await expectation(pgStores(await fresh()));
    });

  it('adds the enterprise tables in migrations of their own after the released ones', () => {
    const added = MIGRATIONS.filter((m) => m.version > 5 && m.version <= 10);
    expect(added.map((m) => m.version)).toEqual([6, 7, 8, 9, 10]);
    expect(added.map((m) => m.name)).toEqual([
      'review marks',
      'abnormal-operation registrations',
      'O&M records',
      'monitoring plans and manual results',
      'electronic supervision',
    ]);
  });

  it('shows what one process took to another: a mark, an approved registration’s window, a plan in force', async () => {
    const p = await fresh();
    const other = postgres.pool(p.options.connectionString!, 2);
    const [here, there] = [pgStores(p), pgStores(other)];
    const mark = await here.marks.add(
      'A1',
      { from: '2026-11-20T08:00:00+08:00', to: '2026-11-20T09:00:00+08:00', reason: 'stopped', note: '' },
      'ops',
      1,
    );
    expect(await there.marks.active('A1', 0, Date.parse('2026-11-21T00:00:00+08:00'))).toEqual([mark]);
    const r = await here.registrations.submit(
      'A1',
      { from: '2026-11-20T00:00:00+08:00', to: '2026-11-21T00:00:00+08:00', reason: 'stopped', detail: '' },
      'chem',
      1,
    );
    await there.registrations.review(r.id, { decision: 'approve', comment: '' }, 'li', 2);
    expect(await here.shutdowns.windows({ mn: 'A1', shutdowns: [] })).toEqual([
      { from: r.from, to: r.to, reason: '停产未监测（不正常运行登记 #1）' },
    ]);
    const plan = await here.plans.submit('A1', { items: [{ factor: 'w01018', mode: 'automatic' }] }, 'chem', 1);
    await there.plans.review(plan.id, 'approved', 'li', 2, '');
    expect((await here.plans.inForce('A1'))?.state).toBe('approved');
  });

  it('decides a registration once when two reviewers on two processes decide it at the same time', async () => {
    const p = await fresh();
    const others = [postgres.pool(p.options.connectionString!, 2), postgres.pool(p.options.connectionString!, 2)];
    const r = await new PgRegistrationStore(p).submit(
      'A1',
      { from: '2026-11-20T00:00:00+08:00', to: '2026-11-21T00:00:00+08:00', reason: 'maintenance', detail: '' },
      'chem',
      1,
    );
    const outs = await Promise.all(
      others.map((o, i) =>
        new PgRegistrationStore(o).review(r.id, { decision: 'approve', comment: '' }, `reviewer${i}`, 2),
      ),
    );
    expect(outs.filter((o) => o === 'already-reviewed')).toHaveLength(1);
    expect(outs.filter((o) => typeof o === 'object' && o.state === 'approved')).toHaveLength(1);
    // One window, not one per reviewer.
    expect(await new PgShutdownStore(p).list('A1')).toHaveLength(1);
  });

  it('takes one answer of a supervision item sent twice at once from two processes', async () => {
    const p = await fresh();
    const others = [postgres.pool(p.options.connectionString!, 2), postgres.pool(p.options.connectionString!, 2)];
    const item = await new PgSupervisionStore(p).send(
      { mn: 'A1', kind: 'dataGap', from: 0, to: 3_600_000 },
      86_400_000,
      '',
      'li',
      'authority',
      1,
    );
    const answer = { reason: '断电', measures: '恢复供电', attachments: [] };
    const outs = await Promise.all(
      others.map((o) => new PgSupervisionStore(o).answer(item.id, answer, 'chem', 'enterprise', 2)),
    );
    expect(outs.filter((o) => o === 'wrong-state')).toHaveLength(1);
    expect((await new PgSupervisionStore(p).get(item.id))!.steps.map((s) => s.action)).toEqual(['send', 'answer']);
  });

  describe.runIf(TOOLS.mosquitto())('two ingest processes of one cluster', () => {
    let broker: Proc;
    const clouds: TestCloud[] = [];
    const TOKEN = 'enterprise-cluster-token-0123456789';
    beforeAll(async () => {
      broker = await startMosquitto();
    });
    afterAll(async () => {
      for (const c of clouds.splice(0)) await c.stop();
      await broker?.stop();
    });

    /** A process of the cluster on `url`, each with its own state database and store, and a client for its API. */
    const member = async (url: string, name: string) => {
      const c = await startTestCloud({
        http: { host: '127.0.0.1', port: 0, tokens: [{ name: 'ops', sha256: sha256(TOKEN), role: 'admin' }] },
        mqtt: { mode: 'external', url: `mqtt://127.0.0.1:${broker.port}`, group: 'ingest' },
        cluster: { postgres: url, member: name, leaseSeconds: 4, renewSeconds: 1 },
      });
      clouds.push(c);
      const base = `http://127.0.0.1:${c.cloud.http!.address.port}`;
      const call = async (method: string, path: string, json?: unknown) => {
        const res = await fetch(base + path, {
          method,
          headers: {
            authorization: `Bearer ${TOKEN}`,
            ...(json !== undefined && { 'content-type': 'application/json' }),
          },
          ...(json !== undefined && { body: JSON.stringify(json) }),
        });
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        return { status: res.status, body: (await res.json()) as any };
      };
      return { c, call };
    };

    it('reads on one process what the API of another took: windows, marks, registrations, O&M, plans', async () => {
      const url = await freshDatabase(postgres.server(), 'enterprise_cluster');
      const [a, b] = [await member(url, 'a'), await member(url, 'b')];
      const window = { from: '2026-11-20T00:00:00+08:00', to: '2026-11-21T00:00:00+08:00', reason: '停产' };
      expect((await a.call('POST', `/stations/${WATER_MN}/shutdowns`, window)).status).toBe(201);
      expect((await b.call('GET', `/stations/${WATER_MN}/shutdowns`)).body).toEqual([window]);
      // What the rules' missing-hour check reads, on the other process.
      const station = b.c.cloud.registry().get(WATER_MN)!;
      expect(await b.c.cloud.shutdowns.windows(station)).toEqual([...station.shutdowns, window]);

      const mark = { from: '2026-11-22T08:00:00+08:00', to: '2026-11-22T10:00:00+08:00', reason: 'fault' };
      expect((await a.call('POST', `/stations/${WATER_MN}/marks`, mark)).status).toBe(201);
      const marks = await b.call('GET', `/stations/${WATER_MN}/marks`);
      expect(marks.status).toBe(200);
      expect(JSON.stringify(marks.body)).toContain('"reason":"fault"');

      const registration = {
        from: '2026-11-23T00:00:00+08:00',
        to: '2026-11-24T00:00:00+08:00',
        reason: 'maintenance',
        detail: '更换计量泵',
      };
      const submitted = await a.call('POST', `/stations/${WATER_MN}/registrations`, registration);
      expect(submitted.status).toBe(201);
      const reviewed = await b.call('POST', `/registrations/${submitted.body.id}/review`, { decision: 'approve' });
      expect(reviewed.body).toMatchObject({ state: 'approved' });
      expect((await a.call('GET', `/stations/${WATER_MN}/shutdowns`)).body).toEqual([
        window,
        { from: registration.from, to: registration.to, reason: '检修（不正常运行登记 #1）：更换计量泵' },
      ]);
      expect((await a.call('GET', '/registrations?state=approved')).body).toHaveLength(1);

      const record = { type: 'inspection', from: '2026-11-22T09:00:00+08:00', to: '2026-11-22T10:00:00+08:00' };
      expect(
        (await b.call('POST', `/stations/${WATER_MN}/om-records`, { ...record, company: '运维公司' })).status,
      ).toBe(201);
      const from = Date.parse('2026-11-22T00:00:00+08:00');
      const records = await a.call('GET', `/stations/${WATER_MN}/om-records?from=${from}&to=${from + 86_400_000}`);
      expect(records.body).toMatchObject([{ id: 1, type: 'inspection', company: '运维公司' }]);

      const plan = { items: [{ factor: 'w01018', mode: 'automatic' }] };
      const planned = await a.call('POST', `/stations/${WATER_MN}/plans`, plan);
      expect(planned.status).toBe(201);
      expect((await b.call('POST', `/plans/${planned.body.id}/review`, { decision: 'approve' })).status).toBe(200);
      expect((await a.call('GET', `/stations/${WATER_MN}/plan`)).body).toMatchObject({ state: 'approved' });
    }, 60_000);
  });
});
