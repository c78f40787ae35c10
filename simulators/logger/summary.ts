/** Upload counters of one run, shared by every connection of the run. */
export interface CnCounts {
  sent: number;
  acknowledged: number;
  unacknowledged: number;
}

export interface RunSummary {
  loggers: number;
  connected: number;
  durationMs: number;
  /** Uploads sent with the A bit (each counted once, however often it was retried). */
  sent: number;
  acknowledged: number;
  /** Re-sends after an answer did not come within the timeout. */
  retries: number;
  /** Uploads still unanswered after every retry, or lost with their connection. */
  failed: number;
  /** Connections re-established after the platform closed one. */
  reconnects: number;
  /** Requests from the platform this run answered. */
  requests: number;
  /** Uploads the platform refused with a 9011, by QnRtn (table 7: 3 wrong PW, 4 unknown MN, 9 CRC). */
  refused: Record<string, number>;
  perCn: Record<string, CnCounts>;
  errors: string[];
}

export function emptySummary(loggers: number): RunSummary {
  return {
    loggers,
    connected: 0,
    durationMs: 0,
    sent: 0,
    acknowledged: 0,
    retries: 0,
    reconnects: 0,
    failed: 0,
    requests: 0,
    refused: {},
    perCn: {},
    errors: [],
  };
}

export function countCn(s: RunSummary, cn: string, what: keyof CnCounts): void {
  const c = (s.perCn[cn] ??= { sent: 0, acknowledged: 0, unacknowledged: 0 });
  c[what]++;
  if (what === 'sent') s.sent++;
  else if (what === 'acknowledged') s.acknowledged++;
  else s.failed++;
}
