import Database from 'better-sqlite3';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { StationPasswords } from '../cloud/passwords.js';
import type { Packet } from '../protocol/index.js';

/** PWs the platform's 1072 sets (HJ 212-2017 C.9), as the authenticator is given their hashes. */
const MN = '0100000000A89000000000A1';
const exe = (qn: string, exeRtn: string): Packet => ({
  version: '2017',
  qn,
  st: '91',
  cn: '9012',
  pw: 'old',
  mn: MN,
  flag: 4,
  cp: { params: { ExeRtn: exeRtn }, factors: {} },
});

describe('station PWs set by 1072', () => {
  it(
    'pending from the send, in force on 9012 ExeRtn=1, the old one for the grace ' +
      'only, kept across restarts, until the registry changes it',
    () => {
      const db = new Database(':memory:');
      let now = 1_000_000;
      const o = { now: () => now, graceMs: 600_000, log: pino({ level: 'silent' }) };
      const p = new StationPasswords(db, o);
      const station = { mn: MN, passwordHash: 'H-registry' };
      expect(p.hashes(station)).toEqual(['H-registry']);
      p.propose(MN, 'Q1', 'H-new');
      expect(p.hashes(station)).toEqual(['H-registry', 'H-new']);
      // Another request's 9012, or a 9011, changes nothing.
      p.onPacket(station, exe('Q0', '1'));
      p.onPacket(station, { ...exe('Q1', '1'), cn: '9011', cp: { params: { QnRtn: '1' }, factors: {} } });
      expect(p.hashes(station)).toEqual(['H-registry', 'H-new']);
      p.onPacket(station, exe('Q1', '1'));
      expect(p.hashes(station)).toEqual(['H-new', 'H-registry']);
      now += 599_999;
      expect(p.hashes(station)).toEqual(['H-new', 'H-registry']);
      now += 1;
      expect(p.hashes(station)).toEqual(['H-new']);
      expect(new StationPasswords(db, o).hashes(station)).toEqual(['H-new']);
      // An operator who puts another hash in the registry wins over the 1072.
      expect(p.hashes({ mn: MN, passwordHash: 'H-edited' })).toEqual(['H-edited']);
    },
  );

  it('a 1072 the logger refuses (ExeRtn other than 1) drops the pending PW', () => {
    const p = new StationPasswords(new Database(':memory:'), {
      now: () => 0,
      graceMs: 600_000,
      log: pino({ level: 'silent' }),
    });
    const station = { mn: MN, passwordHash: 'H-registry' };
    p.propose(MN, 'Q1', 'H-new');
    p.onPacket(station, exe('Q1', '3'));
    expect(p.hashes(station)).toEqual(['H-registry']);
  });
});
