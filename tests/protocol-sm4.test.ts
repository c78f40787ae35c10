import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, type DecodeResult, type Packet } from '../protocol/index.js';
import { sm4Ecb } from '../protocol/sm4.js';
import { decodeKeys, switchKey } from '../protocol/sm4-keys.js';

// SM4 that can be seen to work (issue 21): the block cipher against the standard's known answer, the
// CP encryption against cipher text computed outside this code base, and the wire itself inspected.

const KEY_HEX = '0123456789abcdeffedcba9876543210';
const KEY = Buffer.from(KEY_HEX, 'hex');
const MN = '010000A8900016F000169DC0';
const OTHER_MN = '010000A8900016F000169DC1';

function ok(r: DecodeResult) {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.frame;
}
function err(r: DecodeResult) {
  if (r.ok) throw new Error('expected a rejection');
  return r.error;
}

describe('the SM4 block cipher', () => {
  it('GB/T 32907-2016 appendix A, example 1: key = plain text = 0123456789abcdeffedcba9876543210', () => {
    expect(sm4Ecb('encrypt', KEY, KEY).toString('hex')).toBe('681edf34d206965e86b3e94f536e4246');
    expect(sm4Ecb('decrypt', Buffer.from('681edf34d206965e86b3e94f536e4246', 'hex'), KEY).toString('hex')).toBe(
      KEY_HEX,
    );
  });

  it('refuses a key that is not 16 bytes and data that is not whole blocks', () => {
    expect(() => sm4Ecb('encrypt', KEY, KEY.subarray(0, 15))).toThrow(/16 bytes, got 15/);
    expect(() => sm4Ecb('encrypt', KEY.subarray(0, 15), KEY)).toThrow(/16-byte blocks, got 15/);
  });
});

describe('the HJ 212-2025 CP on the wire', () => {
  const packet: Packet = {
    version: '2025',
    qn: '20260301120000000',
    st: '32',
    cn: '2011',
    pw: '123456',
    mn: MN,
    flag: 9,
    cp: { params: { DataTime: '20260301120000' }, factors: { w01018: { Rtd: '35.2', Flag: 'N' } } },
  };
  // The CP "DataTime=20260301120000;w01018-Rtd=35.2,w01018-Flag=N" is 23 + 1 + 15 + 1 + 13 = 53 bytes,
  // zero-filled to 64 (four blocks) and encrypted with
  //   openssl enc -sm4-ecb -K 0123456789abcdeffedcba9876543210 -nopad -in cp-zero-filled.bin | xxd -p
  // (OpenSSL 3.0 command line); the frame's length is 87 bytes of header fields + 128 hex digits = 215,
  // and its CRC comes from a transcription of appendix A's CRC16_Checkout run outside this code base.
  const CIPHER =
    '420EC151EBADB1AE5A00535ACAD259ECE5477CA13F1FC4B4A70C7C75BDD27776875AE5EBE762279627FAD8A6D739F664E4E02EA613E760BB' +
    'A8AC8DFC10D5B4E3';
  const WIRE = `##0215QN=20260301120000000;ST=32;CN=2011;PW=123456;MN=${MN};Flag=9;CP=&&${CIPHER}&&E381\r\n`;
  const CLEAR =
    `##0140QN=20260301120000000;ST=32;CN=2011;PW=123456;MN=${MN};Flag=9;CP=&&DataTime=20260301120000;` +
    'w01018-Rtd=35.2,w01018-Flag=N&&BA41\r\n';
  const keys = (mn: string | undefined): Uint8Array | undefined => (mn === MN ? KEY : undefined);

  it('a fixed key and CP give the fixed cipher text, the whole frame byte for byte', () => {
    expect(encodeFrame(packet, { sm4Key: keys })).toBe(WIRE);
  });

  it('the wire carries upper-case hex and none of the factor codes or field names', () => {
    const cp = /CP=&&(.*)&&/.exec(encodeFrame(packet, { sm4Key: keys }))![1]!;
    expect(cp).toMatch(/^(?:[0-9A-F]{32})+$/);
    for (const word of ['w01018', 'Rtd', 'Flag', 'DataTime', '35.2']) expect(cp).not.toContain(word);
  });

  it('the station key decodes the cipher text strictly into the packet', () => {
    const f = ok(decodeFrame(WIRE, { mode: 'strict', sm4Key: keys }));
    expect(f.encrypted).toBe(true);
    expect(f.packet).toEqual(packet);
  });

  it('a clear-text CP from a station that has a key is refused strictly, flagged leniently', () => {
    expect(err(decodeFrame(CLEAR, { mode: 'strict', sm4Key: keys }))).toMatchObject({
      code: 'unencrypted-cp',
      field: 'CP',
    });
    const f = ok(decodeFrame(CLEAR, { mode: 'lenient', sm4Key: keys }));
    expect(f.encrypted).toBeUndefined();
    expect(f.relaxations).toEqual([expect.objectContaining({ code: 'unencrypted-cp', field: 'CP' })]);
  });

  it('the option decides where the mode would: refuse in lenient decoding, flag in strict', () => {
    expect(err(decodeFrame(CLEAR, { mode: 'lenient', sm4Key: keys, clearCp: 'refuse' })).code).toBe('unencrypted-cp');
    const f = ok(decodeFrame(CLEAR, { mode: 'strict', sm4Key: keys, clearCp: 'flag' }));
    expect(f.relaxations.map((r) => r.code)).toEqual(['unencrypted-cp']);
  });

  it('clear text stays fine where no key is held, and for commands HJ 212-2025 does not encrypt', () => {
    const stranger =
      `##0140QN=20260301120000000;ST=32;CN=2011;PW=123456;MN=${OTHER_MN};Flag=9;` +
      'CP=&&DataTime=20260301120000;w01018-Rtd=35.2,w01018-Flag=N&&B681\r\n';
    expect(ok(decodeFrame(stranger, { mode: 'strict', sm4Key: keys })).relaxations).toEqual([]);
    const answer = encodeFrame(
      { ...packet, cn: '9014', st: '91', flag: 8, cp: { params: { QN: packet.qn! }, factors: {} } },
      { sm4Key: keys },
    );
    expect(answer).toContain(`CP=&&QN=${packet.qn!}&&`);
    expect(ok(decodeFrame(answer, { mode: 'strict', sm4Key: keys })).packet.cn).toBe('9014');
  });
});

describe('1014 key change: which keys encode and decode (protocol/sm4-keys.ts)', () => {
  const K0 = '0123456789ABCDEFFEDCBA9876543210';
  const K1 = 'FEDCBA98765432100123456789ABCDEF';
  const T = 1_748_707_200_000;

  it('switches to the new key and keeps the old one for decode until the grace ends', () => {
    const s = switchKey({ key: K0, since: 0 }, K1, T, 600_000);
    expect(s).toEqual({ key: K1, since: T, previous: K0, previousUntil: T + 600_000 });
    expect(decodeKeys(s, T + 599_999)).toEqual([K0]);
    expect(decodeKeys(s, T + 600_000)).toEqual([]);
    expect(decodeKeys({ key: K0, since: 0, pending: K1, pendingQn: '20250601000000000' }, T)).toEqual([K1]);
    expect(switchKey({ key: K0, since: 0 }, K1, T, 0)).toEqual({ key: K1, since: T });
  });

  it('decodes a frame under a further key given, and only then', () => {
    const packet: Packet = {
      version: '2025',
      qn: '20250601000000000',
      st: '32',
      cn: '2011',
      pw: '123456',
      mn: MN,
      cp: { params: { DataTime: '20250601000000' }, factors: { w01018: { Rtd: '48.5', Flag: 'N' } } },
    };
    const frame = encodeFrame(packet, { sm4Key: () => Buffer.from(K0, 'hex') });
    const k1 = () => Buffer.from(K1, 'hex');
    expect(err(decodeFrame(frame, { mode: 'strict', sm4Key: k1 })).code).toBe('decrypt-failed');
    const back = ok(decodeFrame(frame, { mode: 'strict', sm4Key: k1, sm4DecodeKeys: () => [Buffer.from(K0, 'hex')] }));
    expect(back.packet.cp.factors['w01018']).toEqual({ Rtd: '48.5', Flag: 'N' });
  });
});
