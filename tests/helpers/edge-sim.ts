import { pino } from 'pino';
import type { Logger } from 'pino';
import { parseAnalyzerConfig, startAnalyzerSimulator } from '../../simulators/analyzer/index.js';
import type {
  AnalyzerConfigInput,
  AnalyzerScenarioInput,
  RunningAnalyzerSimulator,
} from '../../simulators/analyzer/index.js';

type EventInput = NonNullable<NonNullable<AnalyzerScenarioInput['signals']>[string]['events']>[number];

/** Simulated instants start here (Beijing midnight), so hour and day boundaries are easy to read. */
export const SIM_START = Date.parse('2025-06-01T00:00:00+08:00');

/** A flat signal: every poll reads exactly `mean`, so expected values are exact. */
export const flat = (mean: number, events: EventInput[] = []) => ({ mean, amplitude: 0, noise: 0, events });

/** Starts the analyzer simulator on the test's clock (fixed at SIM_START unless given). */
export async function startSim(
  config: AnalyzerConfigInput,
  now: () => number = () => SIM_START,
): Promise<RunningAnalyzerSimulator> {
  const scenario = { seed: 1, start: '2025-06-01T00:00:00+08:00', ...config.scenario };
  return startAnalyzerSimulator(parseAnalyzerConfig({ ...config, scenario }), { clock: { now } });
}

/**
 * The water outlet's analyzers most edge tests read: COD at unit 1 (a flat 48.5 mg/L) and water flow at unit 4
 * (a flat 20), over Modbus TCP on a free port.
 */
export const startWaterSim = (now?: () => number, start?: string): Promise<RunningAnalyzerSimulator> =>
  startSim(
    {
      tcp: { port: 0 },
      devices: [
        { unit: 1, profile: 'cod' },
        { unit: 4, profile: 'water-flow' },
      ],
      // The scenario's start (SIM_START unless given): where its events are counted from.
      scenario: {
        seed: 1,
        ...(start !== undefined && { start }),
        signals: { cod: flat(48.5), 'water-flow': flat(20) },
      },
    },
    now,
  );

/**
 * Webhook retry timing for tests: a failed POST is retried after 20 ms, doubling to 200 ms, and given
 * up after a day (never within a test).
 */
export const FAST_WEBHOOK_RETRIES = { retryHours: 24, baseDelayMs: 20, maxDelayMs: 200 } as const;

/** A logger that keeps its JSON lines for assertions (and prints nothing). */
export function memoryLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, lines };
}

/** The shared `until` (tests/helpers/common.ts), re-exported for the tests that import it here. */
export { until } from './common.js';
