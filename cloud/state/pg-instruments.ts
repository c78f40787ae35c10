import type pg from 'pg';
import {
  toInstrument,
  type CheckedField,
  type Instrument,
  type InstrumentBody,
  type InstrumentBook,
  type InstrumentRow,
  type Reported,
} from '../instruments.js';

const COLUMNS = 'mn, factor, version, body, "by", at';

/**
 * The instrument register (仪器备案) of a cluster in PostgreSQL (migration 12): the same versions and
 * last reports as the SQLite InstrumentStore, for every process: a registration entered through one
 * process is what an analyzer's 3019/3020 is checked against on any other.
 */
export class PgInstrumentStore implements InstrumentBook {
  constructor(private readonly db: Pick<pg.Pool, 'query'>) {}

  async put(mn: string, factor: string, body: InstrumentBody, by: string, at: number): Promise<Instrument> {
    // The next version in the statement that inserts it; the primary key refuses a version taken meanwhile.
    const r = await this.db.query<InstrumentRow>(
      `INSERT INTO instruments (mn, factor, version, body, "by", at)
       SELECT $1, $2, COALESCE(MAX(version), 0) + 1, $3, $4, $5 FROM instruments WHERE mn = $1 AND factor = $2
       RETURNING ${COLUMNS}`,
      [mn, factor, JSON.stringify(body), by, at],
    );
    return toInstrument(r.rows[0]!);
  }

  async current(mn: string): Promise<Instrument[]> {
    const r = await this.db.query<InstrumentRow>(
      `SELECT DISTINCT ON (factor) ${COLUMNS} FROM instruments WHERE mn = $1 ORDER BY factor, version DESC`,
      [mn],
    );
    // By factor as SQLite orders text (code units), whatever the database's collation.
    return r.rows.map(toInstrument).sort((a, b) => (a.factor < b.factor ? -1 : a.factor > b.factor ? 1 : 0));
  }

  async get(mn: string, factor: string): Promise<Instrument | undefined> {
    const r = await this.db.query<InstrumentRow>(
      `SELECT ${COLUMNS} FROM instruments WHERE mn = $1 AND factor = $2 ORDER BY version DESC LIMIT 1`,
      [mn, factor],
    );
    return r.rows[0] && toInstrument(r.rows[0]);
  }

  async history(mn: string, factor: string): Promise<Instrument[]> {
    const r = await this.db.query<InstrumentRow>(
      `SELECT ${COLUMNS} FROM instruments WHERE mn = $1 AND factor = $2 ORDER BY version`,
      [mn, factor],
    );
    return r.rows.map(toInstrument);
  }

  async report(mn: string, factor: string, reported: Reported, at: number): Promise<void> {
    const fields = Object.entries(reported);
    if (fields.length === 0) return;
    await this.db.query(
      `INSERT INTO instrument_reports (mn, factor, field, value, at)
       SELECT $1, $2, f.field, f.value, $3 FROM unnest($4::text[], $5::text[]) AS f(field, value)
       ON CONFLICT (mn, factor, field) DO UPDATE SET value = excluded.value, at = excluded.at`,
      [mn, factor, at, fields.map(([f]) => f), fields.map(([, v]) => JSON.stringify(v))],
    );
  }

  async reported(mn: string, factor: string): Promise<Reported> {
    const r = await this.db.query<{ field: CheckedField; value: string }>(
      'SELECT field, value FROM instrument_reports WHERE mn = $1 AND factor = $2',
      [mn, factor],
    );
    return Object.fromEntries(r.rows.map((x) => [x.field, JSON.parse(x.value) as string | number])) as Reported;
  }
}
