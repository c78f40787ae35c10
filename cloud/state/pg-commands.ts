import type pg from 'pg';
import type { Logger } from 'pino';
import { CN, makeQn, type Packet } from '../../protocol/index.js';
import { listen } from './pg-listen.js';
import { inTransaction } from './pg-schema.js';
import {
  answered,
  COLUMNS,
  OPEN,
  toRecord,
  type AnswerRow,
  type CommandBook,
  type CommandRecord,
  type NewCommand,
  type Row,
} from '../commands/store.js';

/** The channel on which a process says that a station has a request that can be answered. */
const CHANNEL = 'hj212_commands';
/** CNs that answer any request (9011, 9012, 9013): looked up whatever this process knows. */
const ANSWERS = new Set<string>([CN.QnRtn, CN.ExeRtn, CN.NoticeAnswer]);

/**
 * Requests to loggers of a cluster in PostgreSQL (`commands`, `command_answers`, migration 4): a
 * request made through one process is answered through whichever process the logger's answer reaches
 * (its TCP connection's, or any over MQTT), and every process lists the same. A 9011, 9012 or 9013 is
 * looked up by MN and QN in the database each time. The data a request asked for comes as ordinary
 * uploads, so those are looked up only for stations with a request that can still be answered: a
 * set each process keeps from the database at start and from the NOTIFY every new request sends
 * (delivered on commit, so before the request goes on the wire).
 */
export class PgCommandStore implements CommandBook {
  private readonly lastQn = new Map<string, number>();
  private readonly answerable = new Set<string>();
  private unlisten: (() => void) | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
  ) {}

  /**
   * Listens for new requests, then reads the stations with open ones (in this order, so a request made
   * between the two is not missed); the read is made again whenever the LISTEN connection was lost.
   */
  async start(): Promise<void> {
    const read = async (): Promise<void> => {
      const open = await this.pool.query<{ mn: string }>(
        'SELECT DISTINCT mn FROM commands WHERE state = ANY($1::text[])',
        [[...OPEN]],
      );
      for (const { mn } of open.rows) this.answerable.add(mn);
    };
    this.unlisten = await listen(
      this.pool,
      CHANNEL,
      this.log,
      'command notifications',
      (mn) => this.answerable.add(mn),
      {
        resync: read,
      },
    );
    await read();
  }

  async stop(): Promise<void> {
    this.unlisten?.();
    this.unlisten = undefined;
  }

  /**
   * A QN after this process's last for the station. Two processes giving one station a QN in the
   * same millisecond would collide; the UNIQUE (mn, qn) of the table refuses the second record.
   */
  nextQn(mn: string, now: number): string {
    const at = Math.max(now, (this.lastQn.get(mn) ?? -Infinity) + 1);
    this.lastQn.set(mn, at);
    return makeQn(new Date(at));
  }

  async add(c: NewCommand): Promise<CommandRecord> {
    const id = await inTransaction(this.pool, async (client) => {
      const r = await client.query<{ id: number }>(
        `INSERT INTO commands (mn, cn, cp, qn, sent_at, by, via, deadline, state)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
        [c.mn, c.cn, JSON.stringify(c.cp), c.qn, c.sentAt, c.by, c.via, c.deadline, c.state],
      );
      if (OPEN.has(c.state)) await client.query('SELECT pg_notify($1, $2)', [CHANNEL, c.mn]);
      return r.rows[0]!.id;
    });
    if (OPEN.has(c.state)) this.answerable.add(c.mn);
    return { ...c, id, result: null, answers: [] };
  }

  async notConnected(id: number): Promise<void> {
    await this.pool.query("UPDATE commands SET state = 'not-connected' WHERE id = $1", [id]);
  }

  async answer(mn: string, packet: Packet, at: number): Promise<boolean> {
    if (!ANSWERS.has(packet.cn) && !this.answerable.has(mn)) return false;
    // HJ/T 212-2005 answers carry the QN in the CP.
    const qn = packet.qn ?? packet.cp.params['QN'];
    if (qn === undefined) return false;
    return inTransaction(this.pool, async (client) => {
      // Locked: two answers of one request (its 9011 and 9012 through two processes) move it in turn.
      const row = (
        await client.query<Row>(`SELECT ${COLUMNS} FROM commands WHERE mn = $1 AND qn = $2 FOR UPDATE`, [mn, qn])
      ).rows[0];
      const next = row && OPEN.has(row.state) ? answered(row, packet, at) : false;
      if (next === false) return false;
      await client.query('INSERT INTO command_answers (command_id, cn, at, cp) VALUES ($1, $2, $3, $4)', [
        row!.id,
        packet.cn,
        at,
        JSON.stringify(packet.cp),
      ]);
      if (next)
        await client.query('UPDATE commands SET state = $2, code = $3, meaning = $4 WHERE id = $1', [
          row!.id,
          next.state,
          next.result?.code ?? null,
          next.result?.meaning ?? null,
        ]);
      return true;
    });
  }

  async expire(now: number): Promise<void> {
    await this.pool.query("UPDATE commands SET state = 'timed-out' WHERE state = 'sent' AND deadline <= $1", [now]);
  }

  async get(id: number): Promise<CommandRecord | undefined> {
    const r = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM commands WHERE id = $1`, [id]);
    return r.rows[0] && (await this.withAnswers([r.rows[0]]))[0];
  }

  async list(mn: string, limit: number): Promise<CommandRecord[]> {
    const r = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM commands WHERE mn = $1 ORDER BY id DESC LIMIT $2`, [
      mn,
      limit,
    ]);
    return this.withAnswers(r.rows);
  }

  private async withAnswers(rows: readonly Row[]): Promise<CommandRecord[]> {
    if (rows.length === 0) return [];
    const a = await this.pool.query<AnswerRow & { command_id: number }>(
      'SELECT command_id, cn, at, cp FROM command_answers WHERE command_id = ANY($1::bigint[]) ORDER BY seq',
      [rows.map((r) => r.id)],
    );
    const by = new Map<number, AnswerRow[]>();
    for (const { command_id, ...x } of a.rows) by.set(command_id, [...(by.get(command_id) ?? []), x]);
    return rows.map((r) => toRecord(r, by.get(r.id) ?? []));
  }
}
