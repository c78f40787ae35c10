import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  encodeFrame,
  historyRequest,
  makeFlag,
  parseHjTime,
  formatHjTime,
  type DecodeResult,
  type Packet,
} from '../protocol/index.js';
import { buildSegment } from '../protocol/segment.js';
import { crc16, crc16Modbus, crcHex } from '../protocol/crc.js';
import { frameSegment } from '../protocol/frame.js';
import { qnPlus } from '../protocol/time.js';
import { versionFromFlag } from '../protocol/flag.js';

const MN = '010000A8900016F000169DC0';
const SEG_2011 =
  `QN=20160801085857223;ST=32;CN=2011;PW=123456;MN=${MN};Flag=5;CP=&&DataTime=20160801085857;` +
  'w01018-Rtd=101.0,w01018-Flag=N;w21003-Rtd=2.1,w21003-Flag=N&&';

function ok(r: DecodeResult) {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.frame;
}
function err(r: DecodeResult) {
  if (r.ok) throw new Error('expected a rejection');
  return r.error;
}
const withCrc = (
  segment: string,
  crc: string,
  len = String(Buffer.byteLength(segment)).padStart(4, '0'),
  tail = '\r\n',
): string => `##${len}${segment}${crc}${tail}`;

describe('CRC', () => {
  it('CRC-16/MODBUS of "123456789" is the catalogue check value 4B37', () => {
    expect(crc16Modbus(Buffer.from('123456789'))).toBe(0x4b37);
  });

  it('the appendix A CRC can only end in 00 01 40 41 80 81 C0 C1', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(crc16(Buffer.from(`QN=${i};CP=&&x=${i * 7}&&`)) & 0xff);
    expect([...seen].every((b) => [0x00, 0x01, 0x40, 0x41, 0x80, 0x81, 0xc0, 0xc1].includes(b))).toBe(true);
  });
});

describe('versions and Flag', () => {
  it('maps the version bits of Flag', () => {
    expect(versionFromFlag(0)).toBe('2005');
    expect(versionFromFlag(3)).toBe('2005');
    expect(versionFromFlag(4)).toBe('2017');
    expect(versionFromFlag(7)).toBe('2017');
    expect(versionFromFlag(8)).toBe('2025');
    expect(versionFromFlag(9)).toBe('2025');
    expect(() => versionFromFlag(12)).toThrow(/version bits 000011/);
    expect(makeFlag('2017', { ack: true })).toBe(5);
    expect(makeFlag('2017', { ack: true, split: true })).toBe(7);
    expect(makeFlag('2025', { ack: true })).toBe(9);
  });

  it('rejects an unknown version with a typed error naming Flag', () => {
    const e = err(decodeFrame(frameSegment(SEG_2011.replace('Flag=5', 'Flag=13'))));
    expect(e).toMatchObject({ code: 'unknown-version', field: 'Flag' });
  });

  it('rejects a Flag that is not 0-255', () => {
    expect(err(decodeFrame(frameSegment(SEG_2011.replace('Flag=5', 'Flag=300'))))).toMatchObject({
      code: 'bad-flag',
      field: 'Flag',
    });
  });
});

describe('HJ/T 212-2005', () => {
  // The upload printed in HJ/T 212-2005's examples, without its trailing "..." (no QN, no Flag).
  const seg =
    'ST=32;CN=2011;PW=123456;MN=88888880000001;CP=&&DataTime=20040516020111;B01-Rtd=100;101-Rtd=1.1,101-Flag=N;' +
    '102-Rtd=2.2,102-Flag=N&&';

  it('decodes strictly and maps 2005 factor codes to 2017 codes', () => {
    const f = ok(decodeFrame(frameSegment(seg), { mode: 'strict' }));
    expect(f.packet.version).toBe('2005');
    expect(f.packet.cp.factors['w00000']).toEqual({ Rtd: '100' });
    expect(f.packet.cp.factors['w21011']).toEqual({ Rtd: '1.1', Flag: 'N' });
    expect(f.legacyCodes).toMatchObject({ w00000: 'B01', w21011: '101' });
  });

  it('encodes back with the 2005 codes', () => {
    const f = ok(decodeFrame(frameSegment(seg)));
    const again = buildSegment(f.packet);
    // Numeric 2005 codes are integer-like object keys, so their order may differ; the content may not.
    expect(again).toContain('B01-Rtd=100');
    expect(again).toContain('101-Rtd=1.1,101-Flag=N');
    expect(ok(decodeFrame(frameSegment(again))).packet).toEqual(f.packet);
  });

  it('leniently assumes 2005 from the codes when Flag is missing, and says so', () => {
    const f = ok(decodeFrame(frameSegment(seg)));
    expect(f.relaxations.map((r) => r.code)).toContain('missing-flag');
    expect(f.packet.version).toBe('2005');
  });
});

describe('HJ 212-2025', () => {
  const key = Buffer.from('0123456789ABCDEF0123456789ABCDEF', 'hex');
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

  it('encrypts the CP of data commands with SM4-ECB and decrypts it with the station key', () => {
    const frame = encodeFrame(packet, { sm4Key: () => key });
    expect(frame).not.toContain('DataTime');
    expect(frame).toMatch(/CP=&&[0-9A-F]{32,}&&/);
    const f = ok(decodeFrame(frame, { mode: 'strict', sm4Key: (mn) => (mn === MN ? key : undefined) }));
    expect(f.encrypted).toBe(true);
    expect(f.packet).toEqual(packet);
  });

  it('leaves interaction commands in clear text', () => {
    const frame = encodeFrame(
      { ...packet, cn: '9014', st: '91', cp: { params: {}, factors: {} } },
      { sm4Key: () => key },
    );
    expect(frame).toContain('CP=&&&&');
  });

  it('reports a missing or wrong key instead of returning noise', () => {
    const frame = encodeFrame(packet, { sm4Key: () => key });
    expect(err(decodeFrame(frame))).toMatchObject({ code: 'decrypt-failed', field: 'CP' });
    const wrong = Buffer.from('FFEEDDCCBBAA99887766554433221100', 'hex');
    expect(err(decodeFrame(frame, { sm4Key: () => wrong }))).toMatchObject({ code: 'decrypt-failed' });
  });

  it('counts the length in UTF-8 bytes when the CP holds Chinese text', () => {
    const log: Packet = {
      ...packet,
      cn: '3020',
      flag: 8,
      cp: {
        params: { DataTime: '20260301120000' },
        factors: {},
        info: [{ polId: 'w01018', codes: { i11001: { Info: '//清洗管路//' } } }],
      },
    };
    const frame = encodeFrame(log);
    const segment = frame.slice(6, -6);
    expect(Number(frame.slice(2, 6))).toBe(Buffer.byteLength(segment, 'utf8'));
    expect(Number(frame.slice(2, 6))).toBeGreaterThan(segment.length);
    expect(ok(decodeFrame(frame, { mode: 'strict' })).packet).toEqual(log);
  });
});

describe('strict mode and the lenient dialects', () => {
  const good = frameSegment(SEG_2011);
  const crc = good.slice(-6, -2);
  /** A segment with a Chinese (3 bytes a character in UTF-8) CP value. */
  const cjk = SEG_2011.replace('DataTime', 'DataTime=20160801085857;i11001-Info=//维护//;X');

  const dialects: Array<[string, string, string]> = [
    ['lower-case CRC hex', withCrc(SEG_2011, crc.toLowerCase()), 'crc-lowercase'],
    ['missing CR LF', withCrc(SEG_2011, crc, undefined, ''), 'missing-trailer'],
    ['unpadded length', withCrc(SEG_2011, crc, String(Buffer.byteLength(SEG_2011))), 'length-unpadded'],
    ['spaces around fields', frameSegment(SEG_2011.replace('w21003-Rtd=2.1', ' w21003-Rtd = 2.1')), 'spaces'],
    ['MN before PW', frameSegment(SEG_2011.replace(`PW=123456;MN=${MN}`, `MN=${MN};PW=123456`)), 'field-order'],
    ['CRC-16/MODBUS', withCrc(SEG_2011, crcHex(crc16Modbus(Buffer.from(SEG_2011)))), 'crc-dialect'],
    [
      'CRC-16/MODBUS low byte first',
      withCrc(
        SEG_2011,
        crcHex(((crc16Modbus(Buffer.from(SEG_2011)) & 0xff) << 8) | (crc16Modbus(Buffer.from(SEG_2011)) >> 8)),
      ),
      'crc-dialect',
    ],
    ['trailing ; before &&', frameSegment(SEG_2011.replace('N&&', 'N;&&')), 'empty-item'],
    ['missing QN', frameSegment(SEG_2011.replace('QN=20160801085857223;', '')), 'missing-field'],
    ['14-character MN', frameSegment(SEG_2011.replace(MN, '88888880000001')), 'value-format'],
    [
      'length counted in characters',
      withCrc(cjk, crcHex(crc16(Buffer.from(cjk))), String(cjk.length).padStart(4, '0')),
      'length-mismatch',
    ],
  ];

  for (const [name, frame, relaxation] of dialects) {
    it(`${name}: strict rejects it, lenient accepts it and reports ${relaxation}`, () => {
      const strict = decodeFrame(frame, { mode: 'strict' });
      expect(strict.ok).toBe(false);
      const f = ok(decodeFrame(frame, { mode: 'lenient' }));
      expect(f.relaxations.map((r) => r.code)).toContain(relaxation);
      expect(f.packet.cp.factors['w01018']).toEqual({ Rtd: '101.0', Flag: 'N' });
    });
  }

  it('says which CRC dialect matched', () => {
    expect(ok(decodeFrame(dialects[5]![1])).crcDialect).toBe('modbus');
    expect(ok(decodeFrame(dialects[6]![1])).crcDialect).toBe('modbus-swapped');
    expect(ok(decodeFrame(good)).crcDialect).toBe('hj212');
  });

  it('a GBK data segment is accepted leniently and rejected strictly', () => {
    const text =
      `QN=20160801085857223;ST=32;CN=3020;PW=123456;MN=${MN};Flag=4;CP=&&DataTime=20160801085857;` +
      'PolId=w01018;i11001-Info=//';
    const gbkBytes = Buffer.concat([Buffer.from(text), Buffer.from([0xc7, 0xe5, 0xcf, 0xb4]), Buffer.from('//&&')]);
    const frame = Buffer.concat([
      Buffer.from(`##${String(gbkBytes.length).padStart(4, '0')}`),
      gbkBytes,
      Buffer.from(`${crcHex(crc16(gbkBytes))}\r\n`),
    ]);
    expect(err(decodeFrame(frame, { mode: 'strict' })).code).toBe('bad-encoding');
    expect(ok(decodeFrame(frame)).packet.cp.info?.[0]?.codes['i11001']).toEqual({ Info: '//清洗//' });
  });
});

describe('errors are typed and say where', () => {
  it('bad CRC: field CRC at the CRC offset', () => {
    const frame = frameSegment(SEG_2011);
    const bad = frame.slice(0, -6) + (frame.slice(-6, -2) === '0000' ? '0001' : '0000') + '\r\n';
    expect(err(decodeFrame(bad, { mode: 'strict' }))).toMatchObject({
      code: 'bad-crc',
      field: 'CRC',
      offset: bad.length - 6,
    });
  });

  it('oversize: a declared segment over 1024 bytes in strict mode', () => {
    expect(err(decodeFrame(`##2000${SEG_2011}`, { mode: 'strict' }))).toMatchObject({
      code: 'oversize',
      field: 'length',
    });
  });

  it('bad value: the CP field and its offset in the frame', () => {
    const e = err(decodeFrame(frameSegment(SEG_2011.replace('w21003-Rtd=2.1', 'w21003-Rtd=abc')), { mode: 'strict' }));
    expect(e).toMatchObject({ code: 'bad-value', field: 'w21003-Rtd' });
    expect(e.message).toContain('w21003-Rtd=abc');
  });

  it('a line break inside the data segment, in either mode: no answer could carry the value', () => {
    const frame = frameSegment(SEG_2011.replace('QN=20160801085857223', 'QN=2016080108\r5857223'));
    for (const mode of ['strict', 'lenient'] as const) {
      expect(err(decodeFrame(frame, { mode }))).toMatchObject({
        code: 'bad-field',
        field: 'segment',
        offset: 6 + 'QN=2016080108'.length,
      });
    }
  });

  it('missing CP, missing CN', () => {
    expect(
      err(decodeFrame(frameSegment('QN=20160801085857223;ST=32;CN=2011;Flag=5'), { mode: 'strict' })),
    ).toMatchObject({ code: 'missing-field', field: 'CP' });
    expect(err(decodeFrame(frameSegment('QN=20160801085857223;ST=32;Flag=5;CP=&&&&')))).toMatchObject({
      code: 'missing-field',
      field: 'CN',
    });
  });

  it('encode names the field a bad value is in', () => {
    const p: Packet = { version: '2017', cn: '2011', cp: { params: {}, factors: { w01018: { Rtd: '1;2' } } } };
    expect(() => encodeFrame(p)).toThrow(/w01018-Rtd/);
    expect(() => encodeFrame({ ...p, cn: '20' })).toThrow(/cn "20"/);
    expect(() => encodeFrame({ ...p, flag: 9 })).toThrow(/2025/);
  });
});

describe('time helpers', () => {
  it('formats and parses local time (UTC+8)', () => {
    const d = new Date('2016-08-01T00:58:57Z');
    expect(formatHjTime(d)).toBe('20160801085857');
    expect(parseHjTime('20160801085857').toISOString()).toBe('2016-08-01T00:58:57.000Z');
    expect(() => parseHjTime('20160231000000')).toThrow(/not a valid date/);
    expect(qnPlus('20160801085857999', 1)).toBe('20160801085858000');
  });

  it('builds a history request the way table C.49 prints it', () => {
    const p = historyRequest({ mn: MN, pw: '123456', st: '32' }, '2061', '20160801080000', '20160801080000', {
      qn: '20160801085857223',
    });
    expect(buildSegment(p)).toBe(
      `QN=20160801085857223;ST=32;CN=2061;PW=123456;MN=${MN};Flag=5;CP=&&BeginTime=20160801080000;` +
        'EndTime=20160801080000&&',
    );
  });
});
