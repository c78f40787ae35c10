import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ownerOf } from '../cloud/cluster.js';
import { pino } from 'pino';
import { encodeFrame, formatHjTime, parseHjTime } from '../protocol/index.js';
import { freePort, until } from './helpers/common.js';
import { rawClient } from './helpers/cloud-fixtures.js';
import {
  AlarmStore,
  CloudConfigSchema,
  hashSecret,
  openSqlite,
  Registry,
  RulesOptionsSchema,
  RuleEngine,
  SqliteStore,
  type AlarmEvent as Event,
  type Alarm,
} from '../cloud/index.js';
import { nodeApi, startIngestNode, uploader, type IngestNode } from './helpers/demo-cluster.js';
import { startCentreMosquitto, type CentreBroker } from './helpers/demo-centre.js';

const H = 3_600_000;
const MNS = Array.from({ length: 6 }, (_, i) => `0100000000A8900000000${(0xa0 + i).toString(16).toUpperCase()}0`);
const pw = (mn: string) => `p${mn.slice(-5)}`;
const LIMIT = 100;
const HOURS = 6;
/**
 * Real-time COD of the station with the scripted episode: one run above the limit (a 预警: real-time data is never
 * 超标), then back under.
 */
const EPISODE = [40, 45, 150, 160, 170, 45, 40];
const NORMAL = [40, 42, 41, 43, 40, 44, 42];

interface AlarmEvent {
  event: 'opened' | 'closed';
  alarm: { type: string; mn: string; factor?: string; openedAt: number };
}

describe('scale-out: two ingest processes on one mosquitto (shared subscription) and one store', () => {
  let broker: CentreBroker;
  let dir: string;
  const nodes: IngestNode[] = [];
  const clients: MqttClient[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hj212-scale-'));
    broker = await startCentreMosquitto({
      ingest: 'ingest-secret',
      alarms: 'alarms-secret',
      ...Object.fromEntries(MNS.map((mn) => [mn, `mqtt-${mn}`])),
    });
  }, 30_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    for (const n of nodes) if (n.child.exitCode === null) n.child.kill('SIGKILL');
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it(
    'splits the uploads, stores each once, raises every alarm exactly once, and ' +
      'lists and acknowledges every alarm on either process',
    { timeout: 90_000 },
    async () => {
      // One station of each owner carries the scripted episode or the gap, so both hand-offs are exercised.
      const exceeding = MNS.find((mn) => ownerOf(mn, 2) === 0)!;
      const gappy = MNS.find((mn) => ownerOf(mn, 2) === 1)!;
      expect(exceeding && gappy).toBeTruthy();
      const stations = await Promise.all(
        MNS.map(async (mn, i) => ({
          mn,
          enterprise: `E${i}`,
          outlet: `WS-${i}`,
          type: 'water',
          passwordHash: await hashSecret(pw(mn), 1024),
          factors: { w01018: { upper: LIMIT } },
        })),
      );
      await writeFile(join(dir, 'stations.yaml'), stringify({ stations }));
      const http = [await freePort(), await freePort()];
      const setup = (index: number) => ({
        dir,
        index,
        count: 2,
        brokerUrl: broker.ingestUrl,
        caFile: broker.caFile,
        password: 'ingest-secret',
        httpPort: http[index]!,
      });
      for (const index of [0, 1]) nodes.push(await startIngestNode(setup(index)));

      const observer = await broker.client('alarms', 'alarms-secret');
      clients.push(observer);
      const events: AlarmEvent[] = [];
      observer.on('message', (_t, payload) => events.push(JSON.parse(payload.toString()) as AlarmEvent));
      await observer.subscribeAsync('hj212/alarms/#', { qos: 1 });

      // Every station: HOURS finished hours of data (the gappy one skips the third) and a run of real-time data.
      const h0 = Math.floor(Date.now() / H) * H - HOURS * H;
      let sent = 0;
      await Promise.all(
        MNS.map(async (mn) => {
          const client = await broker.client(mn, `mqtt-${mn}`, { clientId: `dev-${mn}` });
          clients.push(client);
          const upload = await uploader(client, mn, pw(mn));
          for (let h = 0; h < HOURS; h++) {
            if (mn === gappy && h === 2) continue;
            await upload('2061', h0 + h * H, 40);
            sent++;
          }
          const values = mn === exceeding ? EPISODE : NORMAL;
          for (const [i, v] of values.entries()) {
            await upload('2011', h0 + HOURS * H + i * 30_000, v);
            sent++;
          }
        }),
      );
      // Every upload was answered (so stored); only now does the test run the first sweep on each node.
      for (const n of nodes) await n.checkRules();

      const deadline = Date.now() + 40_000;
      const of = (type: string, event: string) => events.filter((e) => e.alarm.type === type && e.event === event);
      while (of('missing-hour', 'opened').length === 0 || of('warning', 'closed').length === 0) {
        if (Date.now() > deadline)
          throw new Error(`alarms: ${JSON.stringify(events)}\n${nodes.map((n) => n.output()).join('\n')}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      // A second sweep on each node, run to its end, must not raise the gap again.
      for (const n of nodes) await n.checkRules();
      type Open = Pick<Alarm, 'type' | 'mn'>;
      for (const port of http) {
        const open = await nodeApi<Open[]>(port, '/alarms');
        expect(open.filter((a) => a.type === 'missing-hour').map((a) => a.mn)).toEqual([gappy]);
      }

      expect(of('warning', 'opened').map((e) => [e.alarm.mn, e.alarm.factor])).toEqual([[exceeding, 'w01018']]);
      expect(of('warning', 'closed').map((e) => e.alarm.mn)).toEqual([exceeding]);
      expect(of('missing-hour', 'opened').map((e) => [e.alarm.mn, e.alarm.factor, e.alarm.openedAt])).toEqual([
        [gappy, 'w01018', h0 + 2 * H],
      ]);
      expect(events.filter((e) => !['warning', 'missing-hour'].includes(e.alarm.type))).toEqual([]);

      // Either process lists every episode, under the same id, whichever process owns the station.
      type Listed = Alarm & { ack: { by: string; comment: string } | null };
      const view = (a: Listed) => [a.id, a.type, a.mn, a.openedAt, a.closedAt ?? null];
      const raised = events.filter((e) => e.event === 'opened').length;
      const listed = async (port: number, want: (l: Listed[]) => boolean): Promise<Listed[]> => {
        const deadline = Date.now() + 15_000;
        for (;;) {
          const l = await nodeApi<Listed[]>(port, '/alarms').catch(() => []);
          if (want(l)) return l;
          if (Date.now() > deadline) throw new Error(`:${port} lists ${JSON.stringify(l)}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      };
      const settled = (l: Listed[]) =>
        l.length === raised && l.every((a) => a.type !== 'warning' || a.closedAt !== undefined);
      const [on0, on1] = [await listed(http[0]!, settled), await listed(http[1]!, settled)];
      expect(on1.map(view)).toEqual(on0.map(view));
      expect(new Set(on0.map((a) => a.id % 1024))).toEqual(new Set([0, 1]));
      // Acknowledged on the process that does not own the station: the owner shows it too.
      const episode = on0.find((a) => a.type === 'warning')!;
      await nodeApi(http[1]!, `/alarms/${episode.id}/ack`, {
        method: 'POST',
        body: { comment: 'flushed the sampling line' },
      });
      const acked = (l: Listed[]) => l.find((a) => a.id === episode.id)?.ack?.comment === 'flushed the sampling line';
      await listed(http[0]!, acked);
      // A follow-up set on the process that does not own the station: the owner's trail has it, once.
      await nodeApi(http[1]!, `/alarms/${episode.id}/follow-ups`, {
        method: 'POST',
        body: { state: 'notified', comment: '已通知企业' },
      });
      type Trail = { by: string; state: string; comment: string }[];
      const trailOf = async (port: number): Promise<Trail> => {
        const deadline = Date.now() + 15_000;
        for (;;) {
          const t = await nodeApi<Trail>(port, `/alarms/${episode.id}/follow-ups`).catch((): Trail => []);
          if (t.length > 0 || Date.now() > deadline) return t.map(({ by, state, comment }) => ({ by, state, comment }));
          await new Promise((r) => setTimeout(r, 200));
        }
      };
      const trail = await trailOf(http[0]!);
      expect(trail).toEqual([{ by: expect.any(String), state: 'notified', comment: '已通知企业' }]);

      const counters = [await nodes[1]!.stop()];
      // A process that joins with an empty state database is sent the others' episodes and acknowledgements.
      const fresh = await startIngestNode({ ...setup(1), state: 'state-1-fresh.db' });
      nodes.push(fresh);
      const copied = await listed(http[1]!, acked);
      expect(await trailOf(http[1]!)).toEqual(trail);
      expect(copied.map(view)).toEqual(on0.filter((a) => ownerOf(a.mn, 2) === 0).map(view));
      await fresh.stop();
      counters.push(await nodes[0]!.stop());
      // Both processes stored uploads; together, each exactly once.
      expect(counters.every((c) => c.stored > 0)).toBe(true);
      expect(counters.reduce((sum, c) => sum + c.stored, 0)).toBe(sent);
      const db = new Database(join(dir, 'store.db'), { readonly: true });
      try {
        const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
        const table = tables.map((t) => t.name).find((n) => !n.startsWith('sqlite_'))!;
        expect((db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n).toBe(sent);
      } finally {
        db.close();
      }
    },
  );
  it(
    "relays a 2061 request from the station owner to the process holding its logger's TCP connection",
    { timeout: 60_000 },
    async () => {
      const sub = join(dir, 'relay');
      await mkdir(sub);
      // The logger connects to the node that does not own its station, so the request must cross over.
      const mn = MNS.find((m) => ownerOf(m, 2) === 1)!;
      const station = {
        mn,
        enterprise: 'E',
        outlet: 'WS',
        type: 'water',
        passwordHash: await hashSecret(pw(mn), 1024),
        factors: { w01018: { upper: LIMIT } },
      };
      await writeFile(join(sub, 'stations.yaml'), stringify({ stations: [station] }));
      const ports = [await freePort(), await freePort()];
      const pair: IngestNode[] = [];
      for (const index of [0, 1])
        pair.push(
          await startIngestNode({
            dir: sub,
            index,
            count: 2,
            brokerUrl: broker.ingestUrl,
            caFile: broker.caFile,
            password: 'ingest-secret',
            tcpPort: ports[index]!,
          }),
        );
      nodes.push(...pair);
      const logger = await rawClient(ports[0]!);
      const h0 = Math.floor(Date.now() / H) * H - 4 * H;
      let qn = 0;
      for (const h of [0, 1, 3]) {
        const frame = encodeFrame({
          version: '2017',
          qn: `${formatHjTime(new Date(h0 + h * H))}${String(++qn).padStart(3, '0')}`,
          st: '32',
          cn: '2061',
          pw: pw(mn),
          mn,
          flag: 5,
          cp: {
            params: { DataTime: formatHjTime(new Date(h0 + h * H)) },
            factors: { w01018: { Avg: '40', Flag: 'N' } },
          },
        });
        logger.socket.write(frame);
      }
      // Three 9014s, then the owner's sweep (run by the test) asks node 0's connection for hour 2.
      await until(() => logger.packets.filter((p) => p.cn === '9014').length === 3, 'three 9014s', 15_000);
      await pair[1]!.checkRules();
      const deadline = Date.now() + 40_000;
      let request;
      while (!(request = logger.packets.find((p) => p.cn === '2061'))) {
        if (Date.now() > deadline)
          throw new Error(
            `no 2061 request relayed: ${JSON.stringify(logger.packets)}\n${pair.map((n) => n.output()).join('\n')}`,
          );
        await new Promise((r) => setTimeout(r, 200));
      }
      // A request or feed on the cluster channel that is not what its topic says is refused, logged, and stops nothing.
      const rogue = await broker.client('ingest', 'ingest-secret', { clientId: 'rogue-ingest' });
      clients.push(rogue);
      await rogue.publishAsync(`hj212/_cluster/send/${mn}`, JSON.stringify({ cn: 'x' }), { qos: 1 });
      await rogue.publishAsync(`hj212/_cluster/1/${mn}`, JSON.stringify({ t: 'stored', points: [{ mn }] }), {
        qos: 1,
      });
      const refusals = (n: IngestNode) => n.output().split('cluster-message-invalid').length - 1;
      await until(() => refusals(pair[0]!) === 1 && refusals(pair[1]!) === 2, 'both refusals logged', 15_000);
      expect(pair.map((n) => n.child.exitCode)).toEqual([null, null]);
      logger.close();
      expect(logger.packets.filter((p) => p.cn === '9014')).toHaveLength(3);
      expect(request.mn).toBe(mn);
      expect(parseHjTime(request.cp.params['BeginTime']!).getTime()).toBe(h0 + 2 * H);
      // The hour now running joins the gap if it ends during the test.
      expect([h0 + 2 * H, h0 + 4 * H]).toContain(parseHjTime(request.cp.params['EndTime']!).getTime());
      // Only the owner raised the gap; the node holding the socket sent the request.
      expect(pair[1]!.output()).toContain('alarm opened');
      expect(pair[0]!.output()).not.toContain('alarm opened');
      await Promise.all(pair.map((n) => n.stop()));
    },
  );
});

describe('station ownership (rendezvous hashing)', () => {
  const mns = Array.from({ length: 3000 }, (_, i) => `0100000000A89${i.toString(16).toUpperCase().padStart(11, '0')}`);

  it("spreads stations evenly and moves only the new node's share when a node is added", () => {
    const three = mns.map((mn) => ownerOf(mn, 3));
    for (const node of [0, 1, 2]) expect(three.filter((o) => o === node).length).toBeGreaterThan(800);
    const four = mns.map((mn) => ownerOf(mn, 4));
    const moved = mns.filter((_, i) => four[i] !== three[i]);
    // Every moved station went to the new node, and about a quarter moved.
    expect(moved.every((mn) => ownerOf(mn, 4) === 3)).toBe(true);
    expect(moved.length / mns.length).toBeGreaterThan(0.2);
    expect(moved.length / mns.length).toBeLessThan(0.3);
  });

  it('a cluster config names the field at fault', () => {
    const base = { registry: 'r.yaml', mqtt: { mode: 'external', url: 'mqtt://b:1883' } };
    expect(
      CloudConfigSchema.safeParse({ ...base, cluster: { nodeIndex: 2, nodeCount: 2 } }).error?.issues[0]?.path,
    ).toEqual(['cluster', 'nodeIndex']);
    const embedded = CloudConfigSchema.safeParse({
      ...base,
      mqtt: { mode: 'embedded' },
      cluster: { nodeIndex: 0, nodeCount: 2 },
    });
    expect(embedded.error?.issues[0]).toMatchObject({
      path: ['cluster'],
      message: expect.stringContaining('mode: external') as unknown,
    });
  });
});

describe('missing hours on a station owner', () => {
  it('counts an hour another process stored as present, before the shared store shows it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hj212-owner-'));
    const store = SqliteStore.open(join(dir, 'store.db'));
    const state = openSqlite(join(dir, 'state.db'));
    try {
      const t0 = Date.parse('2026-11-20T00:00:00+08:00');
      const registry = Registry.parse({
        stations: [
          {
            mn: MNS[0],
            enterprise: 'E',
            outlet: 'WS',
            type: 'water',
            passwordHash: await hashSecret('p', 1024),
            factors: { w01018: {} },
            monitoredSince: new Date(t0).toISOString(),
          },
        ],
      });
      const opened: Alarm[] = [];
      const rules = new RuleEngine({
        options: RulesOptionsSchema.parse({ graceMinutes: 0, lookbackHours: 48 }),
        registry: () => registry,
        store,
        alarms: new AlarmStore(state),
        notify: (event: Event, alarm: Alarm) => void (event === 'opened' && opened.push(alarm)),
        send: () => false,
        shutdowns: () => [],
        log: pino({ level: 'silent' }),
      });
      // Hours 0, 1 and 3 reached this owner through the cluster channel; the store has none of them yet.
      const hour = (h: number) => ({
        mn: MNS[0]!,
        factor: 'w01018',
        kind: 'hour' as const,
        time: t0 + h * H,
        values: { Avg: 40 },
        flag: 'N',
      });
      rules.onStored(registry.get(MNS[0])!, [hour(0), hour(1), hour(3)]);
      await rules.checkMissing(t0 + 4 * H);
      expect(opened.map((a) => a.openedAt)).toEqual([t0 + 2 * H]);
    } finally {
      await store.close();
      state.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
