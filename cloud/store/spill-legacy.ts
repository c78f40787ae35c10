import { closeSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { toLine } from './line-protocol.js';
import type { Point } from './types.js';

/** Whether `file` is a SQLite database (the spill queue of an earlier version at `spillPath`). */
function isSqlite(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
  } catch {
    return false;
  }
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(16);
    readSync(fd, head, 0, 16, 0);
    return head.toString('latin1') === 'SQLite format 3\0';
  } finally {
    closeSync(fd);
  }
}

/**
 * The lines waiting in the SQLite spill queue an earlier version kept at `file`, in their order, each
 * ending in a newline: rows of JSON points (the first layout), of one line, or of an upload's lines
 * joined by newlines. Undefined if there is none. Read only: the caller removes the file (with
 * {@link removeLegacySpill}) once the lines are durable in the spill log, so a crash in between sends
 * them twice at worst, which InfluxDB stores once.
 */
export function legacySpillLines(file: string): string | undefined {
  if (!isSqlite(file)) return undefined;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'spill'").all();
    if (tables.length === 0) return '';
    const columns = new Set((db.prepare('PRAGMA table_info(spill)').all() as { name: string }[]).map((c) => c.name));
    const json = columns.has('point');
    let text = '';
    for (const row of db
      .prepare(`SELECT ${json ? 'point' : 'line'} AS v FROM spill ORDER BY id`)
      .pluck()
      .iterate())
      text += `${json ? toLine(JSON.parse(String(row)) as Point) : String(row)}\n`;
    return text;
  } finally {
    db.close();
  }
}

export function removeLegacySpill(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
}
