import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS history (
  cn TEXT NOT NULL,
  at INTEGER NOT NULL,
  stats TEXT NOT NULL,
  PRIMARY KEY (cn, at)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS minutes (at INTEGER PRIMARY KEY, stats TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  uplink TEXT NOT NULL,
  qn TEXT NOT NULL,
  cn TEXT NOT NULL,
  at INTEGER NOT NULL,
  stats TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  -- the drop class of edge/store/retention.ts: 0 real-time and minute data, dropped first; 1 hour, day and 3020
  keep INTEGER NOT NULL
);
-- replay order (nextBatch) and the drop order of the cap and of a full disk
CREATE INDEX IF NOT EXISTS outbox_order ON outbox (uplink, id);
CREATE INDEX IF NOT EXISTS outbox_drop ON outbox (uplink, keep, id);
CREATE UNIQUE INDEX IF NOT EXISTS outbox_qn ON outbox (uplink, qn);
`;

/** What the write-ahead log is cut back to after a checkpoint (journal_size_limit). */
export const WAL_LIMIT_BYTES = 1024 * 1024;

/**
 * Every statement of the store, by name: prepared once when the database opens. `pluck` ones return the first column.
 */
const SQL = {
  insertMinute: { sql: 'INSERT OR REPLACE INTO minutes (at, stats) VALUES (?, ?)' },
  insertHistory: { sql: 'INSERT OR REPLACE INTO history (cn, at, stats) VALUES (?, ?, ?)' },
  setState: { sql: 'INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)' },
  getState: { sql: 'SELECT value FROM state WHERE key = ?' },
  settingRows: { sql: "SELECT key, value FROM state WHERE key LIKE 'setting:%'" },
  historyRange: { sql: 'SELECT at, stats FROM history WHERE cn = ? AND at BETWEEN ? AND ? ORDER BY at' },
  historyPage: { sql: 'SELECT at, stats FROM history WHERE cn = ? AND at BETWEEN ? AND ? ORDER BY at LIMIT ?' },
  minutesSince: { sql: 'SELECT at, stats FROM minutes WHERE at >= ? AND at < ?' },
  hoursSince: { sql: "SELECT at, stats FROM history WHERE cn = '2061' AND at >= ? AND at < ?" },
  pruneHistory: { sql: 'DELETE FROM history WHERE at < ?' },
  pruneMinutes: { sql: 'DELETE FROM minutes WHERE at < ?' },
  firstHistory: { sql: 'SELECT at FROM history WHERE cn = ? ORDER BY at LIMIT 1', pluck: true },
  oldestHistory: { sql: 'SELECT at FROM history WHERE cn = ? ORDER BY at LIMIT ?', pluck: true },
  dropHistoryUpTo: { sql: 'DELETE FROM history WHERE cn = ? AND at <= ?' },
  outboxTotals: { sql: 'SELECT uplink, SUM(bytes) AS total FROM outbox GROUP BY uplink' },
  lastQn: { sql: 'SELECT MAX(qn) AS qn FROM outbox' },
  enqueue: { sql: 'INSERT INTO outbox (uplink, qn, cn, at, stats, bytes, keep) VALUES (?, ?, ?, ?, ?, ?, ?)' },
  // nextBatch reads ahead at each end of the outbox (edge/store/outbox.ts): one statement for many rows,
  // walked along the outbox_order index.
  oldestOutbox: { sql: 'SELECT id, qn, cn, at, stats FROM outbox WHERE uplink = ? ORDER BY id ASC LIMIT ?' },
  newestOutbox: { sql: 'SELECT id, qn, cn, at, stats FROM outbox WHERE uplink = ? ORDER BY id DESC LIMIT ?' },
  outboxId: { sql: 'SELECT id FROM outbox WHERE uplink = ? AND qn = ?', pluck: true },
  confirm: { sql: 'DELETE FROM outbox WHERE id = ? RETURNING bytes', pluck: true },
  // The confirmations' commit (edge/store/outbox.ts flush): prepared once rather than parsed per flush.
  syncNormal: { sql: 'PRAGMA synchronous = NORMAL' },
  syncFull: { sql: 'PRAGMA synchronous = FULL' },
  outboxCount: { sql: 'SELECT COUNT(*) FROM outbox WHERE uplink = ?', pluck: true },
  /** The DataTime of the oldest record waiting (the first queued). */
  outboxOldestAt: { sql: 'SELECT at FROM outbox WHERE uplink = ? ORDER BY id LIMIT 1', pluck: true },
  capCandidates: { sql: 'SELECT id, cn, at, bytes FROM outbox WHERE uplink = ? ORDER BY keep, id LIMIT 500' },
  deleteOutboxRow: { sql: 'DELETE FROM outbox WHERE id = ?' },
  firstDroppableOutbox: { sql: 'SELECT cn, at FROM outbox WHERE uplink = ? AND keep = 0 ORDER BY id LIMIT 1' },
  oldestDroppableOutbox: {
    sql: 'SELECT id, cn, at, bytes FROM outbox WHERE uplink = ? AND keep = 0 ORDER BY id LIMIT ?',
  },
  dropOutboxUpTo: { sql: 'DELETE FROM outbox WHERE uplink = ? AND keep = 0 AND id <= ?' },
} satisfies Record<string, { sql: string; pluck?: boolean }>;

export type Statements = Record<keyof typeof SQL, Database.Statement>;

function prepare(db: Database.Database): Statements {
  const prepared = Object.entries(SQL).map(([name, s]) => {
    const statement = db.prepare(s.sql);
    return [name, 'pluck' in s && s.pluck ? statement.pluck() : statement] as const;
  });
  return Object.fromEntries(prepared) as Statements;
}

export interface StoreDb {
  db: Database.Database;
  sql: Statements;
  path: string;
}

/**
 * Opens (creating) edge.db: WAL with synchronous=FULL, so a commit is on disk before the agent moves
 * on (NORMAL would survive a crash but could lose the last commits on power loss); the load is a few
 * commits a minute.
 */
export function openStoreDb(dataDir: string, logger: Logger): StoreDb {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, 'edge.db');
  const db = new Database(path);
  // Before the first table: lets a disk-full drop give the freed pages back to the filesystem.
  db.pragma('auto_vacuum = INCREMENTAL');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  // Boxes have small disks: fold the log back every 256 pages (1 MiB) and cut it back to 1 MiB after,
  // instead of letting it grow to SQLite's defaults before the outbox cap has any say.
  db.pragma('wal_autocheckpoint = 256');
  db.pragma(`journal_size_limit = ${WAL_LIMIT_BYTES}`);
  db.exec(SCHEMA);
  convertToIncrementalVacuum(db, dataDir, logger);
  return { db, sql: prepare(db), path };
}

/** Databases from before auto_vacuum was set get it the only way SQLite allows: a VACUUM, once. */
function convertToIncrementalVacuum(db: Database.Database, dataDir: string, logger: Logger): void {
  if (db.pragma('auto_vacuum', { simple: true }) === 2) return;
  try {
    db.exec('VACUUM');
    logger.info({ dataDir }, 'edge.db converted to incremental auto-vacuum');
  } catch (err) {
    logger.warn(
      { reason: (err as Error).message, dataDir },
      'edge.db keeps auto-vacuum off: a full disk will drop data without handing the space back; ' +
        'retried at the next start',
    );
  }
}
