import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { crc16, crc16Modbus, crcHex } from '../protocol/crc.js';
import { decodeFrame, encodeFrame, type Packet } from '../protocol/index.js';
import { TOOLS } from './helpers/common.js';

/**
 * The CRC checked against what our code did not compute: frames captured from other HJ 212
 * implementations (each CRC as printed there), and a python3 peer that implements HJ 212-2017
 * appendix A's steps 1-10 from the text of the standard.
 */

/** `##` + 4-digit length + segment + 4 hex CRC, as printed (the trailing CR LF left off). */
const split = (frame: string) => ({
  length: frame.slice(2, 6),
  segment: frame.slice(6, -4),
  printed: frame.slice(-4),
});

/** Frames whose CRC is appendix A's (the register shifted by a byte, then the byte XORed in). */
const APPENDIX_A_CRC = [
  {
    // HJ 212-2017 appendix A, the worked example.
    source: 'HJ 212-2017 appendix A',
    frame:
      '##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80',
  },
  {
    // Fox-Edge-Server (Guangzhou Fox-Tech), the HJ 212-2017 protocol module's TestPduEntity.java: a water
    // logger's 2011 upload with SampleTime per factor.
    source: 'Fox-Edge-Server TestPduEntity',
    frame:
      '##0457QN=20210320163101890;ST=32;CN=2011;PW=123456;MN=81733553213013;Flag=4;CP=&&DataTime=20210320013400;' +
      'w00000-Rtd=181.682,w00000-Flag=N;w21001-SampleTime=20210320005400,w21001-Rtd=45.160,w21001-Flag=N;' +
      'w21011-SampleTime=20210320013400,w21011-Rtd=1.970,w21011-Flag=N;w21003-SampleTime=20210320013400,' +
      'w21003-Rtd=53.131,w21003-Flag=N;w01018-SampleTime=20210320013400,w01018-Rtd=194.200,w01018-Flag=N;' +
      'w01001-SampleTime=20210320013406,w01001-Rtd=7.496,w01001-Flag=N&&6E80',
  },
  {
    // A Python HJ 212 service's parser test (REALTIME_SAMPLE): surface-water 2011, ST=21.
    source: 'python hj212 service test REALTIME_SAMPLE',
    frame:
      '##0247QN=20260706103512345;ST=21;CN=2011;PW=123456;MN=A110000_0001;Flag=9;CP=&&DataTime=20260706103000;' +
      'w01010-Rtd=28.6,w01010-Flag=N;w01014-Rtd=7.8,w01014-Flag=N;w01001-Rtd=6.5,w01001-Flag=N;' +
      'w01017-Rtd=15.2,w01017-Flag=N;w01019-Rtd=1.023,w01019-Flag=N&&1540',
  },
];

/**
 * Frames from linqiu126/hcu (hcusrc/l2codec/zhbhjt212msg.h test data): their CRC is CRC-16/MODBUS, a dialect seen in
 * the field.
 */
const MODBUS_CRC = [
  '##0086QN=20170516010101001;ST=22;CN=1072;PW=123456;MN=ABCDEFG1234567;Flag=3;CP=&&PW=654321&&E476',
  '##0102QN=20170516010101001;ST=22;CN=1012;PW=123456;MN=ABCDEFG1234567;Flag=3;CP=&&SystemTime=20170516010101&&E1C4',
  '##0124QN=20170302150101001;ST=22;CN=2051;PW=123456;MN=AQHJ0QP0100001;Flag=3;' +
    'CP=&&BeginTime=20170302000000,EndTime=20170303000000&&0137',
  '##0076ST=91;CN=9013;PW=123456;MN=ABCDEFG1234567;Flag=0;CP=&&QN=20170516010101001&&1CBA',
];

describe('CRC against frames captured from other implementations', () => {
  it.each(APPENDIX_A_CRC)('$source: the printed length and appendix A CRC are ours', ({ frame }) => {
    const { length, segment, printed } = split(frame);
    expect(String(Buffer.byteLength(segment)).padStart(4, '0')).toBe(length);
    expect(crcHex(crc16(Buffer.from(segment)))).toBe(printed);
    const r = decodeFrame(`${frame}\r\n`, { mode: 'lenient' });
    expect(r.ok && r.frame.crcDialect).toBe('hj212');
  });

  it.each(MODBUS_CRC)('CRC-16/MODBUS dialect: recognised as such, refused by the strict decoder (%#)', (frame) => {
    const { segment, printed } = split(frame);
    expect(crcHex(crc16Modbus(Buffer.from(segment)))).toBe(printed);
    expect(crcHex(crc16(Buffer.from(segment)))).not.toBe(printed);
    const lenient = decodeFrame(`${frame}\r\n`, { mode: 'lenient' });
    expect(lenient.ok && lenient.frame.crcDialect).toBe('modbus');
    const strict = decodeFrame(`${frame}\r\n`, { mode: 'strict' });
    expect(strict.ok ? 'ok' : strict.error.code).toBe('bad-crc');
  });
});

/** HJ 212-2017 appendix A, steps 1-10, as the standard words them; reads JSON segments, prints their CRCs. */
const APPENDIX_A_PY = `
import json, sys
def crc(data):
    reg = 0xFFFF                       # 1) register := 0xFFFF
    for byte in data:                  # 2) next byte into the temporary register
        reg = (reg >> 8) ^ byte        # 3) XOR with the register's high byte
        for _ in range(8):             # 4)-7) eight times: test the low bit, shift right, XOR 0xA001 if it was 1
            bit = reg & 1
            reg >>= 1
            if bit:
                reg ^= 0xA001
    return reg                         # 10) the CRC
print(json.dumps(['%04X' % crc(s.encode('utf-8')) for s in json.load(sys.stdin)]))
`;

describe.skipIf(!TOOLS.python3())('CRC against an independent peer (python3, appendix A)', () => {
  it('agrees on every frame our encoder writes and on arbitrary bytes of every length up to 300', () => {
    const packet = (i: number): Packet => ({
      version: '2017',
      qn: `20261120${String(i).padStart(9, '0')}`,
      st: '32',
      cn: '2061',
      pw: '123456',
      mn: '010000A8900016F000169DC0',
      flag: 5,
      cp: {
        params: { DataTime: '20261120100000' },
        factors: { w01018: { Avg: (i * 1.37).toFixed(2), Flag: 'N' }, w00000: { Cou: String(i * 11), Flag: 'N' } },
      },
    });
    const segments = Array.from({ length: 60 }, (_, i) => split(encodeFrame(packet(i)).trimEnd()).segment);
    // Printable ASCII of every length 0..300 (a running pattern, so lengths and contents vary).
    for (let n = 0; n <= 300; n += 7)
      segments.push(Array.from({ length: n }, (_, k) => String.fromCharCode(32 + ((k * 31 + n) % 95))).join(''));
    const run = spawnSync('python3', ['-c', APPENDIX_A_PY], { input: JSON.stringify(segments), encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const peer = JSON.parse(run.stdout) as string[];
    expect(peer).toHaveLength(segments.length);
    expect(segments.map((s) => crcHex(crc16(Buffer.from(s))))).toEqual(peer);
    // The encoder's printed CRC is the one the peer computed.
    for (let i = 0; i < 60; i++) expect(encodeFrame(packet(i)).trimEnd().slice(-4)).toBe(peer[i]);
  });
});
