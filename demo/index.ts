/** The one-command demo (`hj212 demo`): simulators → edge agents → cloud, on loopback, in one process. */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { stringify } from 'yaml';
import { CloudConfigSchema, sha256, startCloud, type Cloud } from '../cloud/index.js';
import { parseEdgeConfig, startAgent, type RunningAgent } from '../edge/index.js';
import {
  parseAnalyzerConfig,
  startAnalyzerSimulator,
  warpedClock,
  type AnalyzerConfigInput,
  type RunningAnalyzerSimulator,
  type SimClock,
} from '../simulators/analyzer/index.js';
import { Lifecycle } from '../runtime/lifecycle.js';
import { generateCredentials } from './credentials.js';
import { keepLoggerAway } from './outage.js';
import { LoggerConfigSchema, startLoggers } from '../simulators/logger/index.js';
import {
  CEMS_MN,
  cemsAnalyzers,
  cemsEdge,
  COD_LIMIT,
  HOUR,
  LOGGER_AWAY,
  LOGGER_MN,
  WATER_MN,
  waterAnalyzers,
  waterEdge,
  demoStations,
} from './scene.js';

export { CEMS_MN, COD_LIMIT, LOGGER_AWAY, LOGGER_MN, WATER_MN } from './scene.js';

export interface DemoOptions {
  /**
   * Where databases and the log go; an empty or new folder, kept afterwards. A temp dir (removed at stop) by default.
   */
  dir?: string;
  /** Simulated seconds per real second: 60 makes an hour a minute. */
  warp?: number;
  /** The API's port (0: any free one). */
  httpPort?: number;
  /** Where the components' JSON logs go; `dir/demo.log` by default. */
  log?: Logger;
}

export interface Demo {
  dir: string;
  logFile?: string;
  api: string;
  mqtt: string;
  tcp: string;
  readToken: string;
  adminToken: string;
  /** The duty operator's login for the dashboard (role operator). */
  account: { user: string; password: string };
  /** The simulated clock every component runs on. */
  clock: SimClock;
  start: number;
  warp: number;
  stop(): Promise<void>;
}

async function prepareDir(dir: string | undefined): Promise<{ dir: string; owned: boolean }> {
  if (dir === undefined) return { dir: await mkdtemp(join(tmpdir(), 'hj212-demo-')), owned: true };
  const abs = resolve(dir);
  await mkdir(abs, { recursive: true });
  // The edge boxes resume from what their databases hold; a previous run's would be on another clock.
  if ((await readdir(abs)).length > 0) throw new Error(`--dir ${abs}: not empty; give a new or empty folder`);
  return { dir: abs, owned: false };
}

/**
 * The day before the simulated start that the third-party logger uploads from its memory as it first
 * connects (and that is uploaded for the edge outlets before their boxes start): the dashboard opens
 * on a day of hour data at every outlet at once rather than after a day of the clock.
 * Those hours lie before the stations' monitoredSince, so no rate or missing-hour alarm counts them;
 * they show as back-filled (补传), as they arrive after they were due.
 */
export const BACKLOG_HOURS = 24;

/** Starts every part on one warped clock; `stop` ends them in order, from the sources to the cloud. */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const warp = options.warp ?? 60;
  const { dir, owned } = await prepareDir(options.dir);
  const logFile = options.log ? undefined : join(dir, 'demo.log');
  const log = options.log ?? pino({ level: 'info' }, pino.destination({ dest: logFile!, sync: true }));
  // A whole hour a day ago: every source's first hour is complete, and simulated time stays in the
  // past for a while (24 real minutes at 60x), where the dashboard's "up to now" views look.
  const start = Math.floor(Date.now() / HOUR) * HOUR - 24 * HOUR;
  // Whole milliseconds: stores and API schemas take integer times, and a warped clock is fractional.
  // Simulated time stands at `start` until every part is up, then runs: starting takes real seconds
  // (more on a loaded machine), i.e. simulated minutes at 240x, and the scripted episodes (COD over its
  // limit from 40 min on) would pass before the edge agents poll their analyzers, never to be seen.
  let warped: SimClock = { now: () => start };
  const clock: SimClock = { now: () => Math.floor(warped.now()) };
  // Closed from the sources to the cloud: the last part started is the first stopped.
  const parts = new Lifecycle({ log: log.child({ part: 'demo' }) });
  const stop = async () => {
    await parts.close();
    log.flush();
    if (owned) await rm(dir, { recursive: true, force: true });
  };
  try {
    const creds = await generateCredentials([WATER_MN, CEMS_MN, LOGGER_MN], [WATER_MN, CEMS_MN]);
    const registry = join(dir, 'stations.yaml');
    await writeFile(registry, stringify({ stations: demoStations(creds, start) }));
    const config = CloudConfigSchema.parse({
      registry,
      store: { type: 'sqlite', path: join(dir, 'measurements.db') },
      state: join(dir, 'state.db'),
      tcp: { host: '127.0.0.1', port: 0 },
      mqtt: { mode: 'embedded', host: '127.0.0.1', port: 0 },
      http: {
        host: '127.0.0.1',
        port: options.httpPort ?? 0,
        tokens: [
          { name: 'demo-viewer', role: 'read', sha256: sha256(creds.readToken) },
          { name: 'demo-operator', role: 'admin', sha256: sha256(creds.adminToken) },
        ],
        // The public pages (信息公开) on loopback: what an approved plan publishes, /disclosure.
        disclosure: true,
      },
      // Grace in simulated minutes; the check itself every 2 real seconds, a simulated minute or two.
      rules: { graceMinutes: 20, lookbackHours: 24, checkEverySeconds: 2, requestEveryMinutes: 10 },
    });
    const cloud: Cloud = await startCloud(config, log.child({ part: 'cloud' }), { now: clock.now });
    parts.add('cloud', () => cloud.stop());
    const mqtt = `mqtt://127.0.0.1:${cloud.mqtt!.address!.port}`;
    const tcpPort = cloud.tcp!.address.port;
    // A duty operator's account with a fresh password, made the way an administrator would (POST /users).
    const account = { user: 'zhiban', password: randomBytes(12).toString('base64url') };
    const added = await fetch(`http://127.0.0.1:${cloud.http!.address.port}/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${creds.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: account.user, role: 'operator', password: account.password }),
    });
    if (added.status !== 201) throw new Error(`demo: adding the operator's account answered ${added.status}`);

    const analyzers = async (input: AnalyzerConfigInput): Promise<RunningAnalyzerSimulator> => {
      const sim = await startAnalyzerSimulator(parseAnalyzerConfig(input), {
        clock,
        logger: log.child({ part: 'analyzers' }),
      });
      parts.add('analyzers', () => sim.close());
      return sim;
    };
    const water = await analyzers(waterAnalyzers(0));
    const cems = await analyzers(cemsAnalyzers(0));
    // Four polls a simulated minute: with one, a poll's jitter puts two samples in one minute and none in the
    // next, and a water minute without a sample is B, so its hour is not judged (HJ 212-2017 C.16-C.17 notes).
    const pollSeconds = Math.max(0.05, 15 / warp);
    const agent = async (mn: string, input: ReturnType<typeof waterEdge>): Promise<RunningAgent> => {
      const a = await startAgent(parseEdgeConfig(input, `demo edge ${mn}`), {
        logger: log.child({ part: 'edge' }),
        clock: clock.now,
        tickMs: 250,
      });
      parts.add(`edge ${mn}`, () => a.close());
      return a;
    };
    // The edge outlets' day before the start too: their boxes' analyzers only run from the start on, so
    // the day is uploaded once, by the logger simulator over HJ 212 TCP with the station's PW (as a
    // logger that was there before the edge box would have), and the fleet stopped once the cloud has
    // confirmed every record. The simulated clock stands at the start meanwhile.
    for (const [mn, outlet] of [
      [WATER_MN, 'water'],
      [CEMS_MN, 'gas'],
    ] as const) {
      const fleet = await startLoggers(
        LoggerConfigSchema.parse({
          port: tcpPort,
          stations: [{ mn, pw: creds.pw[mn]!, outlet }],
          intervals: { rtd: 3600, minute: 60, hour: true, day: false },
          tick: 100,
          backlogHours: BACKLOG_HOURS,
          // The boiler's O2 at its reference 6 % that day: the converted values equal the measured ones and
          // stay under the limits, so only the scripted COD episode exceeds (as the demo promises).
          ...(outlet === 'gas' && {
            script: [
              {
                from: new Date(start - (BACKLOG_HOURS + 1) * HOUR).toISOString(),
                to: new Date(start).toISOString(),
                factors: ['a19001'],
                value: 6,
              },
            ],
          }),
        }),
        { clock, log: log.child({ part: 'backlog' }) },
      );
      await fleet.stop();
    }
    await agent(
      WATER_MN,
      waterEdge({
        dataDir: join(dir, 'edge-water'),
        analyzerPort: water.tcp!.port,
        mqttUrl: mqtt,
        credentials: creds,
        pollSeconds,
      }),
    );
    await agent(
      CEMS_MN,
      cemsEdge({
        dataDir: join(dir, 'edge-cems'),
        analyzerPort: cems.tcp!.port,
        mqttUrl: mqtt,
        credentials: creds,
        pollSeconds,
      }),
    );

    parts.add(
      'third-party logger',
      await keepLoggerAway({
        port: tcpPort,
        mn: LOGGER_MN,
        pw: creds.pw[LOGGER_MN]!,
        clock,
        start,
        away: LOGGER_AWAY,
        backlogHours: BACKLOG_HOURS,
        log: log.child({ part: 'logger' }),
      }),
    );

    const demo: Demo = {
      dir,
      api: `http://127.0.0.1:${cloud.http!.address.port}`,
      mqtt,
      tcp: `127.0.0.1:${tcpPort}`,
      readToken: creds.readToken,
      adminToken: creds.adminToken,
      account,
      clock,
      start,
      warp,
      stop,
    };
    if (logFile !== undefined) demo.logFile = logFile;
    warped = warpedClock(start, warp);
    log.info({ api: demo.api, mqtt, tcp: demo.tcp, warp, codLimit: COD_LIMIT }, 'demo started');
    return demo;
  } catch (e) {
    await stop();
    throw e;
  }
}
