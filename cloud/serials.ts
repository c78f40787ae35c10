import type Database from 'better-sqlite3';
import type { Logger } from 'pino';

/** The hardware serial a station's logger last reported (HJ 212-2025 1001), with when and over what. */
export interface StationSerial {
  serial: string;
  /** When it was reported, ms since epoch (the centre's wall clock). */
  reportedAt: number;
  /** When it was first reported: a serial that changes is a logger that was replaced. */
  since: number;
}

/** A serial as a 1001 carries it: printable ASCII without HJ 212's separators, at most 64 characters. */
export const isSerial = (s: string | undefined): s is string => s !== undefined && /^[!-~]{1,64}$/.test(s);

/**
 * Logger hardware serials by station (HJ 212-2025 CN 1001, docs/protocol-2025.md), kept in the state
 * database beside the keys: the station page shows the box behind an MN, and a new serial under a known
 * MN (a replaced or a cloned logger) is logged at warn level.
 */
export class StationSerials {
  private readonly byMn = new Map<string, StationSerial>();
  private readonly save: Database.Statement<[string, string, number, number]>;

  constructor(
    db: Database.Database,
    private readonly log: Logger,
  ) {
    db.exec(`CREATE TABLE IF NOT EXISTS station_serials (mn TEXT PRIMARY KEY, serial TEXT NOT NULL,
      reported_at INTEGER NOT NULL, since INTEGER NOT NULL)`);
    this.save = db.prepare(`INSERT INTO station_serials (mn, serial, reported_at, since) VALUES (?, ?, ?, ?)
      ON CONFLICT (mn) DO UPDATE SET serial = excluded.serial, reported_at = excluded.reported_at,
      since = excluded.since`);
    const rows = db.prepare('SELECT mn, serial, reported_at, since FROM station_serials').all() as {
      mn: string;
      serial: string;
      reported_at: number;
      since: number;
    }[];
    for (const r of rows) this.byMn.set(r.mn, { serial: r.serial, reportedAt: r.reported_at, since: r.since });
  }

  /** Records the serial station `mn` reported at `at`. */
  report(mn: string, serial: string, at: number): void {
    const before = this.byMn.get(mn);
    const since = before?.serial === serial ? before.since : at;
    if (before && before.serial !== serial)
      this.log.warn(
        { mn, serial, previous: before.serial, reason: 'serial-changed' },
        'the logger of this MN reports another hardware serial (1001): replaced or cloned',
      );
    this.save.run(mn, serial, at, since);
    this.byMn.set(mn, { serial, reportedAt: at, since });
  }

  get(mn: string): StationSerial | undefined {
    return this.byMn.get(mn);
  }
}
