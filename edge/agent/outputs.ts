import type { Logger } from 'pino';
import { to2005Code } from '../../protocol/index.js';
import { DEFAULT_PASSWORD } from '../../protocol/wire.js';
import type { DataRecord } from '../aggregator.js';
import type { EdgeConfig } from '../config.js';
import type { Uplink, UplinkDeps, UplinkHealth } from '../link.js';
import { uplinkSummary } from '../report.js';
import type { UplinkTotals } from '../report.js';
import { MqttUplink } from '../uplink-mqtt.js';
import { TcpUplink } from '../uplink-tcp.js';
import type { CommitTargets } from './committer.js';

/**
 * The last stage: one uplink per platform (HJ 212 over TCP or MQTT), each sending its outbox and
 * answering its platform's commands, and once every `summaryMs` an info line per uplink so a person
 * reading the log sees that uploads are being confirmed.
 */
export class Outputs implements CommitTargets {
  readonly uplinks: Uplink[];
  private readonly totals = new Map<string, UplinkTotals>();
  private summary: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: EdgeConfig,
    deps: UplinkDeps,
    private readonly logger: Logger,
    private readonly summaryMs: number,
  ) {
    warnUplinkConfig(config, logger);
    this.uplinks = config.uplinks.map((u) =>
      u.kind === 'hj212-tcp' ? new TcpUplink(u, deps) : new MqttUplink(u, deps),
    );
  }

  start(): void {
    for (const u of this.uplinks) u.start();
    this.summary = setInterval(() => this.logSummary(), this.summaryMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.summary);
    await Promise.all(this.uplinks.map((u) => u.stop()));
  }

  targets(): { uplink: string; accepts: (r: DataRecord) => boolean }[] {
    return this.uplinks.map((u) => ({ uplink: u.id, accepts: (r) => u.accepts(r) }));
  }

  notify(): void {
    for (const u of this.uplinks) u.notify();
  }

  /** Every agent tick: a 2025 link's heartbeat (9015) and key rotation (1014) run on the agent's clock. */
  tick(now: number): void {
    for (const u of this.uplinks) {
      try {
        u.tick(now);
      } catch (err) {
        // The timer's callback: what escapes here would end the agent.
        this.logger.warn(
          { uplink: u.id, reason: 'uplink-tick-failed', detail: (err as Error).message },
          'uplink tick failed',
        );
      }
    }
  }

  /** C.1 names no uplink: the box has one timeout and resend count, so every uplink takes it. */
  setTimeoutRetry(overTimeSeconds: number, reCount: number): void {
    for (const u of this.uplinks) u.setTimeoutRetry(overTimeSeconds, reCount);
  }

  health(): Record<string, UplinkHealth> {
    return Object.fromEntries(this.uplinks.map((u) => [u.id, u.health()]));
  }

  private logSummary(): void {
    const utc = this.config.station.utcOffsetMinutes;
    for (const u of this.uplinks) {
      const h = u.health();
      this.logger.info(
        { uplink: u.id, reason: 'summary', ...uplinkSummary(h, this.totals.get(u.id), utc) },
        'uplink summary',
      );
      this.totals.set(u.id, { sent: h.sent, confirmed: h.confirmed });
    }
  }
}

/** What the platforms would refuse or misread, said once at start. */
function warnUplinkConfig(config: EdgeConfig, logger: Logger): void {
  for (const u of config.uplinks) {
    if (u.pw === DEFAULT_PASSWORD)
      logger.warn(
        { uplink: u.id, reason: 'default password' },
        `uplink ${u.id} uses the field default password ${DEFAULT_PASSWORD}; ask the platform for the station's own`,
      );
  }
  // HJ/T 212-2005 appendix B has no code for many 2017 factors: they go out under their 2017 code.
  const without2005 = config.devices.flatMap((d) => d.factors.map((f) => f.code)).filter((c) => !to2005Code(c));
  for (const u of config.uplinks.filter((u) => u.version === '2005' && without2005.length > 0))
    logger.warn(
      { uplink: u.id, reason: 'no 2005 code', factors: without2005 },
      'factors without an HJ/T 212-2005 code go out under their 2017 code; ask the platform whether it takes them',
    );
}
