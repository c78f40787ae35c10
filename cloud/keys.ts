import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import {
  CN,
  ExeRtn,
  NEW_KEY_FIELD,
  decodeKeys,
  keyBytes,
  newKeyHex,
  request,
  switchKey,
  type KeyState,
  type Packet,
} from '../protocol/index.js';
import type { Registry } from './registry.js';
import { SqliteStateTable, type StationStateTable } from './state/station-state.js';

export interface StationKeysOptions {
  /** The state database, or a cluster's table in PostgreSQL (a 1014 issued by one process, confirmed by another). */
  db: Database.Database | StationStateTable;
  registry: () => Registry;
  /** Wall clock, ms since epoch. */
  now: () => number;
  /** How long the key replaced by a 1014 is still decoded (cloud config keyGraceSeconds). */
  graceMs: number;
  /** The QN of a new request to `mn`: the one sequence every request of the platform takes (CommandStore.nextQn). */
  qn: (mn: string, at: number) => string;
  log: Logger;
}

/** How a station last spoke: a 1014 to it goes out with the PW and ST it uses. */
interface Seen {
  pw: string;
  st: string;
}

/**
 * HJ 212-2025 station keys after 1014 key changes (docs/protocol-2025.md §1014), kept in the state
 * database so a restart keeps the key the logger now uses. A key issued here overrides the
 * registry's sm4Key; the registry's is the one in force until the first change.
 *
 * A change: the centre sends a 1014 with NewKey (encrypted under the key in force) and holds the new
 * key as pending, accepted on decode at once (the logger switches right after its 9012, and frames
 * after that may be decoded before the 9012 is handled). The logger's 9012 ExeRtn=1 with that QN makes
 * it the key in force; the old one is decoded for the grace period, then refused.
 */
export class StationKeys {
  private readonly states = new Map<string, KeyState>();
  private readonly seen = new Map<string, Seen>();
  private readonly table: StationStateTable;

  constructor(private readonly o: StationKeysOptions) {
    this.table = 'prepare' in o.db ? new SqliteStateTable(o.db, 'station_keys') : o.db;
    const apply = (mn: string, state: string): void => {
      try {
        this.states.set(mn, JSON.parse(state) as KeyState);
      } catch {
        o.log.error({ mn, reason: 'unreadable-key-state' }, 'stored SM4 key state ignored');
      }
    };
    for (const [mn, state] of this.table.rows) apply(mn, state);
    this.table.watch(apply);
  }

  /** The key a station's frames are encoded with and first tried on decode (`CodecOptions.sm4Key`). */
  readonly sm4Key = (mn: string | undefined): Uint8Array | undefined => {
    const state = mn === undefined ? undefined : this.states.get(mn);
    return state ? keyBytes(state.key) : this.o.registry().sm4Key(mn);
  };

  /** The pending key and the replaced one within its grace (`CodecOptions.sm4DecodeKeys`). */
  readonly sm4DecodeKeys = (mn: string | undefined): Uint8Array[] =>
    mn === undefined ? [] : decodeKeys(this.states.get(mn), this.o.now()).map(keyBytes);

  /**
   * A new key for station `mn`: the 1014 request to send it (undefined when the station is no keyed
   * 2025 station, or has not spoken yet so its PW is unknown). `qn` answers a logger's own 1014.
   */
  issue(mn: string, qn?: string): Packet | undefined {
    const station = this.o.registry().get(mn);
    const seen = this.seen.get(mn);
    const current = this.current(mn);
    if (!station || station.version !== '2025' || current === undefined || !seen) return undefined;
    const now = this.o.now();
    const pending = newKeyHex();
    const state: KeyState = { ...(this.states.get(mn) ?? { key: current, since: 0 }), pending };
    const packet = request(
      { mn, pw: seen.pw, st: seen.st, version: '2025' },
      CN.KeyUpdate,
      { [NEW_KEY_FIELD]: pending },
      { qn: qn ?? this.o.qn(mn, now) },
    );
    state.pendingQn = packet.qn!;
    this.put(mn, state);
    this.o.log.info({ mn, qn: packet.qn, reason: qn ? 'logger-asked' : 'platform' }, 'new SM4 key issued (1014)');
    return packet;
  }

  /**
   * An authenticated packet from a logger: notes its PW, confirms a key change on its 9012, and
   * returns the 1014 to send back (over the transport it came by, TCP or MQTT) when it asked for a new key itself.
   */
  onPacket(mn: string, packet: Packet): Packet | undefined {
    if (packet.pw !== undefined) this.seen.set(mn, { pw: packet.pw, st: packet.st ?? this.o.registry().get(mn)!.st });
    if (packet.version !== '2025') return undefined;
    if (packet.cn === CN.KeyUpdate) return this.issue(mn, packet.qn);
    const state = this.states.get(mn);
    if (packet.cn !== CN.ExeRtn || !state?.pending || packet.qn !== state.pendingQn) return undefined;
    const exeRtn = Number(packet.cp.params['ExeRtn']);
    if (exeRtn !== ExeRtn.Success) {
      const { pending: _p, pendingQn: _q, ...kept } = state;
      this.put(mn, kept);
      this.o.log.warn(
        { mn, qn: packet.qn, exeRtn, reason: 'key-change-refused' },
        'the logger refused the new SM4 key',
      );
      return undefined;
    }
    this.put(mn, switchKey(state, state.pending, this.o.now(), this.o.graceMs));
    this.o.log.info({ mn, qn: packet.qn, graceSeconds: this.o.graceMs / 1000 }, 'SM4 key changed (1014)');
    return undefined;
  }

  /**
   * Drops the key issued with request `qn` when its 1014 could not be sent: no frame can come under it.
   */
  withdraw(mn: string, qn: string): void {
    const state = this.states.get(mn);
    if (!state?.pending || state.pendingQn !== qn) return;
    const { pending: _p, pendingQn: _q, ...kept } = state;
    this.put(mn, kept);
    this.o.log.warn({ mn, qn, reason: 'key-not-sent' }, 'the 1014 with a new SM4 key could not be sent: key dropped');
  }

  /** Whether station `mn` has an SM4 key a 1014 can replace (a 2025 station of the registry with a key). */
  keyed(mn: string): boolean {
    return this.o.registry().get(mn)?.version === '2025' && this.current(mn) !== undefined;
  }

  private current(mn: string): string | undefined {
    return this.states.get(mn)?.key ?? this.o.registry().get(mn)?.sm4Key?.toUpperCase();
  }

  private put(mn: string, state: KeyState): void {
    this.table.put(mn, JSON.stringify(state));
    this.states.set(mn, state);
  }
}
