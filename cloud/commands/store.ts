import type Database from 'better-sqlite3';
import { CN, exeRtn, makeQn, parseHjTime, qnRtn, type Cp, type Packet } from '../../protocol/index.js';
import type { Via } from '../ingest/ingest.js';
import type { Awaitable } from '../rules/state.js';

/**
 * Where a request stands (HJ 212-2017 §6.6, appendix C): `sent`, awaiting 9011; `refused`, 9011 with a
 * QnRtn other than 1 (table 7); `executing`, QnRtn=1 and awaiting 9012; `done`, 9012 came (its ExeRtn,
 * table 6, says how it went) or the 9013 of a notice; `timed-out`, no 9011 within the station's timeout;
 * `not-connected`, never sent: the logger was not reachable.
 */
export const COMMAND_STATES = ['sent', 'refused', 'executing', 'done', 'timed-out', 'not-connected'] as const;
export type CommandState = (typeof COMMAND_STATES)[number];

/** One packet the logger sent in answer: 9011, 9012, 9013 or the data the request asked for. */
export interface CommandAnswer {
  cn: string;
  /** When it came, ms since epoch. */
  at: number;
  cp: Cp;
}

/** A request to a logger and what came of it. */
export interface CommandRecord {
  id: number;
  mn: string;
  cn: string;
  /** The CP the request carried. */
  cp: Cp;
  qn: string;
  sentAt: number;
  /** The API token's name. */
  by: string;
  via: Via | null;
  /** No 9011 by then: timed out. */
  deadline: number;
  state: CommandState;
  /** QnRtn of a refusal or ExeRtn of the 9012, with its meaning in tables 7 and 6. */
  result: { code: number; meaning: string } | null;
  answers: CommandAnswer[];
}

export type NewCommand = Omit<CommandRecord, 'id' | 'answers' | 'result'>;

/**
 * Requests to loggers as the API and the ingest use them: in the state database (CommandStore), or in
 * a cluster's PostgreSQL (PgCommandStore), where a request made through one process is answered
 * through whichever process the logger's answer reaches.
 */
export interface CommandBook {
  nextQn(mn: string, now: number): string;
  add(c: NewCommand): Awaitable<CommandRecord>;
  /** A request recorded as sent turned out not to be (its transport had no way to the logger). */
  notConnected(id: number): Awaitable<void>;
  answer(mn: string, packet: Packet, at: number): Awaitable<boolean>;
  expire(now: number): Awaitable<void>;
  get(id: number): Awaitable<CommandRecord | undefined>;
  list(mn: string, limit: number): Awaitable<CommandRecord[]>;
}

export interface Row {
  id: number;
  mn: string;
  cn: string;
  cp: string;
  qn: string;
  sent_at: number;
  by: string;
  via: Via | null;
  deadline: number;
  state: CommandState;
  code: number | null;
  meaning: string | null;
}

export const COLUMNS = 'id, mn, cn, cp, qn, sent_at, by, via, deadline, state, code, meaning';

/**
 * States a logger's packet can still be recorded to (a late answer to a timed-out request is kept, the state stays).
 */
export const OPEN = new Set<CommandState>(['sent', 'executing', 'timed-out']);

const meaningOf = (def: { name: string; nameEn: string } | undefined): string =>
  def ? `${def.nameEn} (${def.name})` : 'not a code of the standard';

/**
 * Requests sent to loggers from the API and their answers, in the state database beside the alarms.
 * QNs are unique per station (the answers are found by MN and QN), so two requests in one millisecond
 * take consecutive milliseconds.
 */
export class CommandStore implements CommandBook {
  /** The time of the last QN given per station since start-up. */
  private readonly lastQn = new Map<string, number>();
  /** Every authenticated packet is looked up here: prepared once. */
  private readonly byQn: Database.Statement<[string, string]>;
  /**
   * Stations with a request that can still be answered: most stations never have one, and their packets
   * skip the lookup. A station stays in until restart (a timed-out request still takes a late answer).
   */
  private readonly answerable = new Set<string>();

  constructor(private readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS commands (id INTEGER PRIMARY KEY, mn TEXT NOT NULL, cn TEXT NOT NULL,
      cp TEXT NOT NULL, qn TEXT NOT NULL, sent_at INTEGER NOT NULL, by TEXT NOT NULL, via TEXT,
      deadline INTEGER NOT NULL, state TEXT NOT NULL, code INTEGER, meaning TEXT, UNIQUE (mn, qn))`);
    db.exec(`CREATE TABLE IF NOT EXISTS command_answers (seq INTEGER PRIMARY KEY, command_id INTEGER NOT NULL,
      cn TEXT NOT NULL, at INTEGER NOT NULL, cp TEXT NOT NULL)`);
    db.exec('CREATE INDEX IF NOT EXISTS command_answers_by_command ON command_answers (command_id, seq)');
    this.byQn = db.prepare(`SELECT ${COLUMNS} FROM commands WHERE mn = ? AND qn = ?`);
    const open = db
      .prepare(`SELECT DISTINCT mn FROM commands WHERE state IN (${[...OPEN].map(() => '?').join(', ')})`)
      .all(...OPEN) as { mn: string }[];
    for (const { mn } of open) this.answerable.add(mn);
  }

  /**
   * A QN for a new request to `mn`: `now` in China time (HJ 212-2017 table 4, YYYYMMDDhhmmsszzz), after
   * the station's last. Every request of the platform takes its QN here (the API's, the rules' 2061, the
   * 1012 after a 1013), so no two share one; those recorded here are remembered across restarts.
   */
  nextQn(mn: string, now: number): string {
    let last = this.lastQn.get(mn);
    if (last === undefined) {
      const row = this.db.prepare('SELECT qn FROM commands WHERE mn = ? ORDER BY qn DESC LIMIT 1').get(mn) as
        { qn: string } | undefined;
      last = row ? parseHjTime(row.qn, undefined, 'QN').getTime() : -Infinity;
    }
    const at = Math.max(now, last + 1);
    this.lastQn.set(mn, at);
    return makeQn(new Date(at));
  }

  add(c: NewCommand): CommandRecord {
    const { lastInsertRowid } = this.db
      .prepare(
        'INSERT INTO commands (mn, cn, cp, qn, sent_at, by, via, deadline, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(c.mn, c.cn, JSON.stringify(c.cp), c.qn, c.sentAt, c.by, c.via, c.deadline, c.state);
    if (OPEN.has(c.state)) this.answerable.add(c.mn);
    return { ...c, id: Number(lastInsertRowid), result: null, answers: [] };
  }

  /**
   * Records a logger's packet to the request it answers (same MN and QN, and a CN that answers it:
   * 9011, 9012, 9013, or the request's own CN for the data it asked for), moving its state on.
   * False when it answers no open request of ours.
   */
  answer(mn: string, packet: Packet, at: number): boolean {
    // HJ/T 212-2005 answers carry the QN in the CP.
    if (!this.answerable.has(mn)) return false;
    const qn = packet.qn ?? packet.cp.params['QN'];
    if (qn === undefined) return false;
    const row = this.byQn.get(mn, qn) as Row | undefined;
    if (!row || !OPEN.has(row.state)) return false;
    const next = answered(row, packet, at);
    if (next === false) return false;
    const cn = packet.cn;
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO command_answers (command_id, cn, at, cp) VALUES (?, ?, ?, ?)')
        .run(row.id, cn, at, JSON.stringify(packet.cp));
      if (next)
        this.db
          .prepare('UPDATE commands SET state = ?, code = ?, meaning = ? WHERE id = ?')
          .run(next.state, next.result?.code ?? null, next.result?.meaning ?? null, row.id);
    })();
    return true;
  }

  notConnected(id: number): void {
    this.db.prepare("UPDATE commands SET state = 'not-connected' WHERE id = ?").run(id);
  }

  /** Marks requests still without a 9011 at `now` as timed out. */
  expire(now: number): void {
    this.db.prepare("UPDATE commands SET state = 'timed-out' WHERE state = 'sent' AND deadline <= ?").run(now);
  }

  get(id: number): CommandRecord | undefined {
    const row = this.db.prepare(`SELECT ${COLUMNS} FROM commands WHERE id = ?`).get(id) as Row | undefined;
    return row && this.record(row);
  }

  /** A station's requests, newest first. */
  list(mn: string, limit: number): CommandRecord[] {
    const rows = this.db
      .prepare(`SELECT ${COLUMNS} FROM commands WHERE mn = ? ORDER BY id DESC LIMIT ?`)
      .all(mn, limit) as Row[];
    return rows.map((r) => this.record(r));
  }

  private record(r: Row): CommandRecord {
    const answers = this.db
      .prepare('SELECT cn, at, cp FROM command_answers WHERE command_id = ? ORDER BY seq')
      .all(r.id) as AnswerRow[];
    return toRecord(r, answers);
  }
}

/** An answer as the tables keep it (its CP as JSON). */
export interface AnswerRow {
  cn: string;
  at: number;
  cp: string;
}

/** A request as the API shows it, from its row and its answers' rows. */
export function toRecord(r: Row, answers: readonly AnswerRow[]): CommandRecord {
  return {
    id: r.id,
    mn: r.mn,
    cn: r.cn,
    cp: JSON.parse(r.cp) as Cp,
    qn: r.qn,
    sentAt: r.sent_at,
    by: r.by,
    via: r.via,
    deadline: r.deadline,
    state: r.state,
    result: r.code === null ? null : { code: r.code, meaning: r.meaning ?? '' },
    answers: answers.map((a) => ({ cn: a.cn, at: a.at, cp: JSON.parse(a.cp) as Cp })),
  };
}

/** Whether a packet answers a request (false if not), and the state it moves the request to, if any. */
export function answered(
  row: Row,
  packet: Packet,
  at: number,
): { state: CommandState; result?: { code: number; meaning: string } } | undefined | false {
  const cn = packet.cn;
  if (cn !== CN.QnRtn && cn !== CN.ExeRtn && cn !== CN.NoticeAnswer && cn !== row.cn) return false;
  // An answer after the deadline finds the request timed out, whether or not anyone looked in between.
  if (row.state === 'sent' && row.deadline <= at) row.state = 'timed-out';
  return transition(row, packet) ?? (row.state === 'timed-out' ? { state: row.state } : undefined);
}

/** The state an answer moves a request to (appendix C's flows), or undefined when it stays. */
function transition(
  row: Row,
  packet: Packet,
): { state: CommandState; result?: { code: number; meaning: string } } | undefined {
  // A late answer is recorded, but a timed-out request stays timed out: the platform gave up on it.
  if (row.state === 'timed-out') return undefined;
  if (packet.cn === CN.QnRtn && row.state === 'sent') {
    const code = Number(packet.cp.params['QnRtn']);
    return code === 1
      ? { state: 'executing' }
      : { state: 'refused', result: { code, meaning: meaningOf(qnRtn(code)) } };
  }
  if (packet.cn === CN.ExeRtn) {
    const code = Number(packet.cp.params['ExeRtn']);
    return { state: 'done', result: { code, meaning: meaningOf(exeRtn(code)) } };
  }
  // C.11, C.13: a stop notice (2012, 2022) is answered with 9013 alone.
  if (packet.cn === CN.NoticeAnswer) return { state: 'done' };
  return undefined;
}
