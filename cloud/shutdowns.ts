import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { Shutdown, Station } from './registry.js';
import type { Awaitable } from './rules/state.js';

export const ShutdownBodySchema = z
  .object({
    from: z.iso.datetime({
      offset: true,
      message: 'from is an ISO 8601 time with its zone, e.g. 2026-11-20T00:00:00+08:00',
    }),
    to: z.iso.datetime({ offset: true, message: 'to is an ISO 8601 time with its zone' }),
    reason: z.string().min(1).max(200).default('停产'),
  })
  .refine((w) => Date.parse(w.from) < Date.parse(w.to), {
    message: 'a shutdown window ends after it starts',
    path: ['to'],
  });

/**
 * Shutdown windows registered through the API (and by approved registrations), kept beside the ones in the
 * registry file: the SQLite ShutdownStore answers at once, a cluster's PgShutdownStore (cloud/state/pg-stores.ts)
 * later; callers await.
 */
export interface ShutdownBook {
  add(mn: string, w: Shutdown): Awaitable<void>;
  list(mn: string): Awaitable<Shutdown[]>;
  /** Every window of a station: the registry's and the registered ones. */
  windows(station: Pick<Station, 'mn' | 'shutdowns'>): Awaitable<Shutdown[]>;
}

/** Shutdown windows registered through the API, kept beside the ones in the registry file. */
export class ShutdownStore implements ShutdownBook {
  constructor(private readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS shutdowns (id INTEGER PRIMARY KEY AUTOINCREMENT, mn TEXT NOT NULL,
      "from" TEXT NOT NULL, "to" TEXT NOT NULL, reason TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS shutdowns_mn ON shutdowns (mn)`);
  }

  add(mn: string, w: Shutdown): void {
    this.db
      .prepare('INSERT INTO shutdowns (mn, "from", "to", reason) VALUES (?, ?, ?, ?)')
      .run(mn, w.from, w.to, w.reason);
  }

  list(mn: string): Shutdown[] {
    return this.db
      .prepare('SELECT "from", "to", reason FROM shutdowns WHERE mn = ? ORDER BY "from"')
      .all(mn) as Shutdown[];
  }

  /** Every window of a station: the registry's and the registered ones. */
  windows(station: Pick<Station, 'mn' | 'shutdowns'>): Shutdown[] {
    return [...station.shutdowns, ...this.list(station.mn)];
  }
}
