import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { SqliteStateTable, type StationStateTable } from './state/station-state.js';
import { CN, ExeRtn, type Packet } from '../protocol/index.js';
import type { Station } from './registry.js';

/** A station PW set by a 1072 the logger executed, as a hash, and the registry hash it replaced. */
interface SetPassword {
  hash: string;
  /** The registry's passwordHash when the 1072 took effect: a registry that changes it since wins. */
  registryHash: string | undefined;
  /** The replaced hash, still accepted until `previousUntil` (resends framed before the change). */
  previous: string | undefined;
  previousUntil: number;
  since: number;
}

/**
 * Station PWs changed by the platform's 1072 (设置现场机访问密码, HJ 212-2017 C.9): the logger answers 9011
 * and 9012 under the old PW and uses the new one after them, so the centre must take the new one then.
 * The API hashes the NewPW when it sends the 1072 and holds it as pending (accepted at once, as the
 * logger's frames after its 9012 may be checked before the 9012 is handled); the 9012 ExeRtn=1 with the
 * request's QN makes it the PW in force (state database, table `station_passwords`), another ExeRtn drops
 * it. The replaced PW is still accepted for `graceMs` (uploads framed before the change and resent). The
 * registry's passwordHash is the one in force again once the registry changes it.
 */
export class StationPasswords {
  private readonly set = new Map<string, SetPassword>();
  private readonly pending = new Map<string, { qn: string; hash: string }>();
  private readonly table: StationStateTable;

  /**
   * `db`: the state database, or the table of a cluster's PostgreSQL, where a 1072 sent through one
   * process is confirmed by the 9012 another process receives (the pending PW is stored too).
   */
  constructor(
    db: Database.Database | StationStateTable,
    private readonly o: { now: () => number; graceMs: number; log: Logger },
  ) {
    this.table = 'prepare' in db ? new SqliteStateTable(db, 'station_passwords') : db;
    for (const [mn, state] of this.table.rows) this.apply(mn, state);
    this.table.watch((mn, state) => this.apply(mn, state));
  }

  /** A stored row: the PW in force and a pending one (rows before pending was stored hold the first alone). */
  private apply(mn: string, text: string): void {
    const row = JSON.parse(text) as SetPassword | { set?: SetPassword; pending?: { qn: string; hash: string } };
    const set = 'hash' in row ? row : row.set;
    const pending = 'hash' in row ? undefined : row.pending;
    if (set) this.set.set(mn, set);
    else this.set.delete(mn);
    if (pending) this.pending.set(mn, pending);
    else this.pending.delete(mn);
  }

  private save(mn: string): void {
    const set = this.set.get(mn);
    const pending = this.pending.get(mn);
    this.table.put(mn, JSON.stringify({ ...(set && { set }), ...(pending && { pending }) }));
  }

  /**
   * The hashes a PW of `station` is checked against: the one in force first, then a pending one and the replaced
   * one in its grace.
   */
  hashes(station: Pick<Station, 'mn' | 'passwordHash'>): string[] {
    const s = this.set.get(station.mn);
    const own = s !== undefined && s.registryHash === station.passwordHash;
    const out: string[] = [];
    const inForce = own ? s.hash : station.passwordHash;
    if (inForce !== undefined) out.push(inForce);
    const pending = this.pending.get(station.mn);
    if (pending) out.push(pending.hash);
    if (own && s.previous !== undefined && this.o.now() < s.previousUntil) out.push(s.previous);
    return out;
  }

  /** A 1072 with this NewPW hash went out to `mn` as request `qn`. */
  propose(mn: string, qn: string, hash: string): void {
    this.pending.set(mn, { qn, hash });
    this.save(mn);
  }

  /** A logger's authenticated packet: its 9012 to our 1072 makes the new PW the one in force, or drops it. */
  onPacket(station: Pick<Station, 'mn' | 'passwordHash'>, packet: Packet): void {
    const pending = this.pending.get(station.mn);
    if (!pending || packet.cn !== CN.ExeRtn || packet.qn !== pending.qn) return;
    this.pending.delete(station.mn);
    const exeRtn = Number(packet.cp.params['ExeRtn']);
    if (exeRtn !== ExeRtn.Success) {
      this.save(station.mn);
      this.o.log.warn(
        { mn: station.mn, qn: packet.qn, exeRtn, reason: 'password-change-refused' },
        'the logger refused the new PW (1072)',
      );
      return;
    }
    const now = this.o.now();
    const state: SetPassword = {
      hash: pending.hash,
      registryHash: station.passwordHash,
      previous: this.hashes(station)[0],
      previousUntil: now + this.o.graceMs,
      since: now,
    };
    this.set.set(station.mn, state);
    this.save(station.mn);
    this.o.log.info({ mn: station.mn, qn: packet.qn, reason: 'password-changed' }, 'station PW changed (1072)');
  }
}
