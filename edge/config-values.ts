/**
 * The configuration's constants the running agent uses (edge/commands.ts, edge/offline.ts, the store's settings),
 * apart from the zod schema in config.ts: the agent's isolate imports these and loads no zod (cli/edge.ts validates
 * the configuration in a worker that exits; bench/README.md, 2026-12-08).
 */
import type { EdgeConfig } from './config.js';

/** A configuration the agent cannot run with; the message names the file, the field and the fix. */
export class EdgeConfigError extends Error {
  override name = 'EdgeConfigError';
}

export const HJ_FLAGS = ['N', 'F', 'M', 'S', 'D', 'C', 'T', 'B'] as const;
export type HjFlag = (typeof HJ_FLAGS)[number];

// HJ 212-2017 §6.6.4: RtdInterval 30..3600 s; MinInterval one of these minutes (divisors of an hour).
export const MIN_INTERVALS = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30] as const;

/**
 * The answer timeout and resend count an uplink takes, from its config (timeoutSeconds, retries) or a
 * platform's 1000 (OverTime, ReCount, HJ 212-2017 C.1). Table 1 recommends 5-10 s and 3; the standard's
 * N2 fields allow 1-99. The box takes what its own config takes: up to 120 s, and 0-10 resends (0 is
 * a link where the platform answers at once or the box reconnects).
 */
export const TIMEOUT_SECONDS_MAX = 120;
export const RETRIES_MAX = 10;

/** What a platform's 1012 does to the box clock (docs/edge.md): set it, or keep the NTP time and answer success. */
export const CLOCK_POLICIES = ['keep-ntp', 'set'] as const;
export type ClockPolicy = (typeof CLOCK_POLICIES)[number];

/** The 1012 policy in force: the configured one, else keep-ntp on a box whose clock follows NTP, else set. */
export const clockPolicyOf = (config: Pick<EdgeConfig, 'clockPolicy' | 'clockTrusted'>): ClockPolicy =>
  config.clockPolicy ?? (config.clockTrusted ? 'keep-ntp' : 'set');
