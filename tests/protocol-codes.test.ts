import { describe, it, expect } from 'vitest';
import {
  CN,
  CODE_2005_TO_2017,
  CODE_2017_TO_2005,
  COMMANDS,
  DATA_FLAGS,
  DEVICE_CLASSES,
  DUPLICATE_CODE_ROWS,
  EXE_RTN,
  ExeRtn,
  FACTORS,
  GAS_PROCESSES,
  INFO_CLASSES,
  INFO_CODES,
  QN_RTN,
  QnRtn,
  RESERVED_CN_RANGES,
  SYSTEM_CODES,
  TIMEOUTS,
  WATER_PROCESSES,
  command,
  commandUse,
  dataFlag,
  defaultTimeout,
  exeRtn,
  factor,
  infoCode,
  isValidFlag,
  qnRtn,
  systemCode,
  to2005Code,
  to2017Code,
  type CommandDirection,
  type CommandKind,
} from '../protocol/codes/index.js';

function duplicates<T>(values: readonly T[]): T[] {
  return values.filter((v, i) => values.indexOf(v) !== i);
}

describe('codes are unique in every table', () => {
  const tables: Record<string, readonly (string | number)[]> = {
    SYSTEM_CODES: SYSTEM_CODES.map((d) => d.code),
    EXE_RTN: EXE_RTN.map((d) => d.code),
    QN_RTN: QN_RTN.map((d) => d.code),
    DATA_FLAGS: DATA_FLAGS.map((d) => d.flag),
    COMMANDS: COMMANDS.map((d) => d.cn),
    TIMEOUTS: TIMEOUTS.map((d) => d.link),
    FACTORS: FACTORS.map((d) => d.code),
    INFO_CODES: INFO_CODES.map((d) => d.code),
    DEVICE_CLASSES: DEVICE_CLASSES.map((d) => d.code),
    INFO_CLASSES: INFO_CLASSES.map((d) => d.code),
    WATER_PROCESSES: WATER_PROCESSES.map((d) => d.code),
    GAS_PROCESSES: GAS_PROCESSES.map((d) => d.code),
    CN: Object.values(CN),
  };
  for (const [name, codes] of Object.entries(tables)) {
    it(name, () => expect(duplicates(codes)).toEqual([]));
  }

  it('each command has at most one use per direction', () => {
    for (const c of COMMANDS) expect(duplicates(c.uses.map((u) => u.direction)), c.cn).toEqual([]);
  });

  it('every row with a duplicated printed code really clashes with a FACTORS row', () => {
    for (const d of DUPLICATE_CODE_ROWS) {
      const kept = factor(d.code);
      expect(kept?.category).toBe(d.category);
      expect(kept?.name).not.toBe(d.name);
    }
  });
});

describe('table 5, 6, 7, 8 and 1', () => {
  it('system codes', () => {
    expect(SYSTEM_CODES.filter((d) => !d.since)).toHaveLength(20);
    expect(systemCode('32')?.name).toBe('地表水体环境污染源');
    expect(systemCode('91')?.name).toBe('系统交互');
    expect(systemCode('44')?.since).toBe('2025');
    expect(systemCode('45')?.since).toBe('2025');
    expect(systemCode('40')).toBeUndefined();
  });

  it('QnRtn and ExeRtn constants agree with the tables', () => {
    expect(Object.values(QnRtn).sort((a, b) => a - b)).toEqual(QN_RTN.map((d) => d.code));
    expect(Object.values(ExeRtn).sort((a, b) => a - b)).toEqual(EXE_RTN.map((d) => d.code));
    expect(qnRtn(QnRtn.Ready)?.name).toBe('准备执行请求');
    expect(qnRtn(QnRtn.Rejected)?.name).toBe('请求被拒绝');
    expect(qnRtn(QnRtn.BadPassword)?.name).toBe('PW 错误');
    expect(qnRtn(QnRtn.BadMn)?.name).toBe('MN 错误');
    expect(qnRtn(QnRtn.BadSt)?.name).toBe('ST 错误');
    expect(qnRtn(QnRtn.BadFlag)?.name).toBe('Flag 错误');
    expect(qnRtn(QnRtn.BadQn)?.name).toBe('QN 错误');
    expect(qnRtn(QnRtn.BadCn)?.name).toBe('CN 错误');
    expect(qnRtn(QnRtn.BadCrc)?.name).toBe('CRC 校验错误');
    expect(qnRtn(QnRtn.Unknown)?.name).toBe('未知错误');
    expect(exeRtn(ExeRtn.Success)?.name).toBe('执行成功');
    expect(exeRtn(ExeRtn.Failed)?.name).toBe('执行失败，但不知道原因');
    expect(exeRtn(ExeRtn.BadCondition)?.name).toBe('命令请求条件错误');
    expect(exeRtn(ExeRtn.Timeout)?.name).toBe('通讯超时');
    expect(exeRtn(ExeRtn.Busy)?.name).toBe('系统繁忙不能执行');
    expect(exeRtn(ExeRtn.Fault)?.name).toBe('系统故障');
    expect(exeRtn(ExeRtn.NoData)?.name).toBe('没有数据');
    expect(exeRtn(7)).toBeUndefined();
  });

  it('only N is valid data', () => {
    expect(DATA_FLAGS.map((d) => d.flag)).toEqual(['N', 'F', 'M', 'S', 'D', 'C', 'T', 'B']);
    expect(DATA_FLAGS.filter((d) => d.valid).map((d) => d.flag)).toEqual(['N']);
    expect(isValidFlag('N')).toBe(true);
    expect(isValidFlag('S')).toBe(false);
    expect(isValidFlag('n')).toBe(false);
    expect(isValidFlag('X')).toBe(false);
    expect(dataFlag('S')?.name).toBe('手工输入的设定值');
  });

  it('default timeouts', () => {
    expect(TIMEOUTS).toHaveLength(10);
    expect(defaultTimeout('ADSL')).toEqual({ link: 'ADSL', timeoutS: 5, retries: 3 });
    expect(defaultTimeout('gprs')?.timeoutS).toBe(10);
    expect(defaultTimeout('WiMAX')?.timeoutS).toBe(10);
    expect(TIMEOUTS.every((d) => d.retries === 3)).toBe(true);
  });
});

describe('table 9 commands', () => {
  // Transcribed from table 9 independently of protocol/codes/commands.ts: [cn, direction, kind].
  const TABLE_9: readonly (readonly [string, CommandDirection, CommandKind])[] = [
    ['1000', 'down', 'request'],
    ['1011', 'down', 'request'],
    ['1011', 'up', 'upload'],
    ['1012', 'down', 'request'],
    ['1013', 'up', 'notice'],
    ['1061', 'down', 'request'],
    ['1061', 'up', 'upload'],
    ['1062', 'down', 'request'],
    ['1063', 'down', 'request'],
    ['1063', 'up', 'upload'],
    ['1064', 'down', 'request'],
    ['1072', 'down', 'request'],
    ['2011', 'down', 'request'],
    ['2011', 'up', 'upload'],
    ['2012', 'down', 'notice'],
    ['2021', 'down', 'request'],
    ['2021', 'up', 'upload'],
    ['2022', 'down', 'notice'],
    ['2031', 'down', 'request'],
    ['2031', 'up', 'upload'],
    ['2041', 'down', 'request'],
    ['2041', 'up', 'upload'],
    ['2051', 'down', 'request'],
    ['2051', 'up', 'upload'],
    ['2061', 'down', 'request'],
    ['2061', 'up', 'upload'],
    ['2081', 'up', 'upload'],
    ['3011', 'down', 'request'],
    ['3012', 'down', 'request'],
    ['3013', 'down', 'request'],
    ['3014', 'down', 'request'],
    ['3015', 'down', 'request'],
    ['3015', 'up', 'upload'],
    ['3016', 'down', 'request'],
    ['3017', 'down', 'request'],
    ['3017', 'up', 'upload'],
    ['3018', 'down', 'request'],
    ['3018', 'up', 'upload'],
    ['3019', 'down', 'request'],
    ['3019', 'up', 'upload'],
    ['3020', 'down', 'request'],
    ['3020', 'up', 'upload'],
    ['3021', 'down', 'request'],
    ['9011', 'up', 'answer'],
    ['9012', 'up', 'answer'],
    ['9013', 'down', 'answer'],
    ['9013', 'up', 'answer'],
    ['9014', 'down', 'answer'],
    ['9014', 'up', 'answer'],
  ];

  it('the 2017 commands are exactly table 9', () => {
    const actual = COMMANDS.filter((c) => !c.since).flatMap((c) => c.uses.map((u) => [c.cn, u.direction, u.kind]));
    expect(actual).toEqual(TABLE_9);
  });

  it('spot checks', () => {
    expect(commandUse('1011', 'down')).toMatchObject({ kind: 'request', name: '提取现场机时间' });
    expect(commandUse('1011', 'up')).toMatchObject({ kind: 'upload', name: '上传现场机时间' });
    expect(command('2081')?.uses).toEqual([expect.objectContaining({ direction: 'up', kind: 'upload' })]);
    expect(commandUse('2081', 'down')).toBeUndefined();
    expect(command('3021')?.uses).toEqual([expect.objectContaining({ direction: 'down', kind: 'request' })]);
    expect(commandUse('1013', 'up')).toMatchObject({ kind: 'notice', name: '现场机时间校准请求' });
    expect(commandUse('2012', 'down')?.kind).toBe('notice');
    expect(commandUse('2022', 'down')?.kind).toBe('notice');
    expect(commandUse('9011', 'down')).toBeUndefined();
    expect(commandUse('9014', 'down')?.kind).toBe('answer');
    expect(commandUse('9014', 'up')?.kind).toBe('answer');
    expect(commandUse('3020', 'up')?.name).toBe('上传现场机信息');
    expect(command('1000')?.group).toBe('init');
    expect(command('1072')?.group).toBe('param');
    expect(command('2061')?.group).toBe('data');
    expect(command('3015')?.group).toBe('control');
    expect(command('9013')?.group).toBe('interaction');
    expect(command('1073')).toBeUndefined();
  });

  it('groups follow the CN ranges of table 9', () => {
    const groupOf = (cn: number) =>
      cn <= 1010 ? 'init' : cn < 2000 ? 'param' : cn < 3000 ? 'data' : cn < 4000 ? 'control' : 'interaction';
    for (const c of COMMANDS) expect(c.group, c.cn).toBe(groupOf(Number(c.cn)));
  });

  it('2025 additions are marked', () => {
    expect(COMMANDS.filter((c) => c.since === '2025').map((c) => c.cn)).toEqual([
      '1001',
      '1002',
      '1014',
      '2013',
      '2052',
      '2062',
      '2111',
      '3022',
      '3024',
      '9015',
    ]);
  });

  it('the 2025 additions: direction and kind of each', () => {
    const uses = (cn: string) => command(cn)?.uses.map((u) => `${u.direction} ${u.kind}`);
    expect(uses('1001')).toEqual(['up upload']);
    expect(uses('1002')).toEqual(['down request']);
    expect(uses('2052')).toEqual(['up upload']);
    expect(uses('2062')).toEqual(['up upload']);
    expect(uses('2111')).toEqual(['up upload']);
    expect(uses('3022')).toEqual(['down request']);
    expect(uses('3024')).toEqual(['down request']);
    expect(commandUse('1002', 'down')?.name).toBe('设置现场机 MN');
    expect(commandUse('3024', 'down')?.name).toBe('启动标样核查');
    expect(command('3023')).toBeUndefined();
    expect(command('1003')).toBeUndefined();
  });

  it('only 2025 additions fall into a 2017 reserved range', () => {
    const reserved = COMMANDS.filter((c) =>
      RESERVED_CN_RANGES.some((r) => Number(c.cn) >= r.from && Number(c.cn) <= r.to),
    );
    expect(reserved.map((c) => c.cn)).toEqual(['1001', '1002', '2111', '3022', '3024', '9015']);
    for (const c of reserved) expect(c.since, c.cn).toBe('2025');
  });

  it('CN names cover exactly the commands', () => {
    expect(Object.values(CN).sort()).toEqual(COMMANDS.map((c) => c.cn).sort());
    expect(CN).toMatchObject({
      RealtimeData: '2011',
      MinuteData: '2051',
      HourData: '2061',
      DayData: '2031',
      RunTimeDay: '2041',
      QnRtn: '9011',
      ExeRtn: '9012',
      NoticeAnswer: '9013',
      DataAnswer: '9014',
      GetTime: '1011',
      SetTime: '1012',
      TimeCalibration: '1013',
    });
  });
});

describe('appendix B factors', () => {
  const NOISE_CODES = ['LA', 'L5', 'L10', 'L50', 'L90', 'L95', 'Leq', 'Ldn', 'Ld', 'Ln', 'LMx', 'LMn'];

  it('row counts per table', () => {
    const count = (category: string) => FACTORS.filter((d) => d.category === category).length;
    expect(count('water')).toBe(63);
    expect(count('air')).toBe(121);
    expect(count('noise')).toBe(12);
    // Printed rows minus the one in DUPLICATE_CODE_ROWS each.
    expect(count('water-process')).toBe(89);
    expect(count('gas-process')).toBe(54);
  });

  it('codes are six characters, except the noise quantities', () => {
    for (const d of FACTORS) {
      if (d.category === 'noise') expect(NOISE_CODES).toContain(d.code);
      else expect(d.code).toMatch(/^[a-z][0-9a-z]{5}$/);
    }
    expect(FACTORS.filter((d) => d.category === 'water').every((d) => /^w\d{5}$/.test(d.code))).toBe(true);
    expect(FACTORS.filter((d) => d.category === 'air').every((d) => /^a\d{5}$/.test(d.code))).toBe(true);
    expect(FACTORS.filter((d) => d.category === 'water-process').every((d) => /^e\d{3}xx$/.test(d.code))).toBe(true);
    expect(FACTORS.filter((d) => d.category === 'gas-process').every((d) => /^g\d{3}xx$/.test(d.code))).toBe(true);
  });

  it('every factor has a name, an English name and, where given, a known unit symbol', () => {
    for (const d of FACTORS) {
      expect(d.name, d.code).not.toBe('');
      expect(d.nameEn, d.code).not.toBe('');
      expect(d.unit === undefined, d.code).toBe(d.unitZh === undefined);
      if (d.dataType !== undefined) expect(d.dataType, d.code).toMatch(/^N\d+(\.\d+)?$/);
    }
  });

  it('process codes use the process code of tables B.4/B.6 as second character', () => {
    const water = new Set(WATER_PROCESSES.map((p) => p.code));
    const gas = new Set(GAS_PROCESSES.map((p) => p.code));
    for (const d of FACTORS) {
      if (d.category === 'water-process') expect(water.has(d.code.charAt(1)), d.code).toBe(true);
      if (d.category === 'gas-process') expect(gas.has(d.code.charAt(1)), d.code).toBe(true);
    }
  });

  it('known rows', () => {
    expect(factor('w01018')).toEqual({
      code: 'w01018',
      name: '化学需氧量',
      nameEn: 'COD (chemical oxygen demand)',
      category: 'water',
      unit: 'mg/L',
      unitZh: '毫克/升',
      amountUnit: 'kg',
      dataType: 'N5.1',
      code2005: '011',
    });
    expect(factor('w21003')).toMatchObject({
      name: '氨氮',
      unit: 'mg/L',
      amountUnit: 'kg',
      dataType: 'N4.2',
      code2005: '060',
    });
    expect(factor('w00000')).toMatchObject({
      name: '污水',
      unit: 'L/s',
      amountUnit: 'm3',
      dataType: 'N5.2',
      code2005: 'B01',
    });
    expect(factor('w01001')).toMatchObject({ unit: 'dimensionless', dataType: 'N2.2', code2005: '001' });
    expect(factor('w01001')?.amountUnit).toBeUndefined();
    expect(factor('w20111')).toMatchObject({ unit: 'μg/L', amountUnit: 'g' });
    expect(factor('w20089')).toMatchObject({ unit: 'ng/L', amountUnit: 'mg' });
    expect(factor('w20138')?.code2005).toBeUndefined();
    expect(factor('a21026')).toMatchObject({
      name: '二氧化硫',
      nameEn: 'SO2',
      unit: 'mg/m3',
      amountUnit: 'kg',
      dataType: 'N5.2',
      code2005: '02',
    });
    expect(factor('a19001')).toMatchObject({ name: '氧气含量', unit: '%', dataType: 'N3.1', code2005: 'S01' });
    expect(factor('a00000')).toMatchObject({
      name: '废气',
      unit: 'm3/s',
      amountUnit: 'm3',
      dataType: 'N6.1',
      code2005: 'B02',
    });
    expect(factor('a34013')).toMatchObject({
      name: '烟尘',
      nameEn: 'Particulate matter (smoke/dust)',
      code2005: '01',
    });
    expect(factor('a01012')).toMatchObject({ unit: '℃', code2005: 'S03' });
    expect(factor('a01013')).toMatchObject({ unit: 'kPa', code2005: 'S08' });
    expect(factor('a01011')).toMatchObject({ unit: 'm/s', code2005: 'S02' });
    expect(factor('a24088')).toMatchObject({ name: '非甲烷总烃', dataType: 'N7.3' });
    expect(factor('a01902')?.name).toBe('垃圾焚烧炉膛内 DCS 温度');
    expect(factor('a34011')).toMatchObject({ unit: 't/(km2·month)' });
    expect(factor('a34011')?.dataType).toBeUndefined();
    expect(factor('Ld')?.name).toBe('昼间等效声级');
    expect(factor('Ln')?.name).toBe('夜间等效声级');
    expect(factor('LMx')?.unit).toBe('dB');
    expect(factor('e101xx')).toMatchObject({ name: '进水口流量', unit: 'L/s', category: 'water-process' });
    expect(factor('g116xx')).toMatchObject({ unit: '°', category: 'gas-process' });
  });

  it('finds process codes by equipment number', () => {
    expect(factor('e30101')?.code).toBe('e301xx');
    expect(factor('g10799')?.name).toBe('GGH 运行状态');
    expect(factor('e99901')).toBeUndefined();
    expect(factor('w0101')).toBeUndefined();
  });

  it('duplicated printed codes resolve to the first row', () => {
    expect(factor('e701xx')?.name).toBe('污水提升泵');
    expect(factor('g119xx')?.name).toBe('脱硫率');
    expect(DUPLICATE_CODE_ROWS.map((d) => d.code)).toEqual(['e701xx', 'g119xx']);
  });
});

describe('appendix B field information', () => {
  it('row count and code shape', () => {
    expect(INFO_CODES).toHaveLength(38);
    for (const d of INFO_CODES) expect(d.code).toMatch(/^i[1-3][1-3]\d{2}[0-9x]$/);
  });

  it('device and information classes come from the code', () => {
    const devices = new Set(DEVICE_CLASSES.map((d) => d.code));
    for (const d of INFO_CODES) {
      expect(devices.has(d.deviceClass ?? ''), d.code).toBe(true);
      expect(['log', 'state', 'parameter']).toContain(d.infoClass);
    }
    expect(infoCode('i11001')).toMatchObject({ deviceClass: '1', infoClass: 'log', dataType: 'C890' });
    expect(infoCode('i23001')).toMatchObject({ deviceClass: '2', infoClass: 'parameter', unit: 'kPa' });
  });

  it('work state values', () => {
    const ws = infoCode('i12001');
    expect(ws?.name).toBe('工作状态');
    expect(ws?.values).toEqual({
      '0': '运行',
      '1': '维护',
      '2': '故障',
      '3': '校准',
      '5': '反吹',
      '6': '电源故障',
      '7': '测量',
      '8': '标定',
      '9': '待机',
      '10': '运维',
    });
    expect(Object.keys(ws?.valuesEn ?? {})).toEqual(Object.keys(ws?.values ?? {}));
    expect(infoCode('i22001')?.values).toEqual({ '0': '运行', '1': '停机', '2': '故障', '3': '维护' });
    expect(infoCode('i22101')?.values?.['2']).toBe('通道未接设备');
  });

  it('lookups', () => {
    expect(infoCode('I33400')?.name).toBe('生产负荷');
    expect(infoCode('i33312')?.code).toBe('i3331x');
    expect(infoCode('i13006')).toMatchObject({ unitZh: '年月日时分秒', dataType: 'YYYYMMDDHHMMSS' });
    expect(infoCode('i13001')?.unit).toBeUndefined();
    expect(infoCode('i33201')?.unit).toBe('kWh');
    expect(infoCode('i99999')).toBeUndefined();
  });
});

describe('HJ/T 212-2005 codes', () => {
  const entries = Object.entries(CODE_2005_TO_2017);

  it('the map is one-to-one and round-trips', () => {
    expect(duplicates(entries.map(([, v]) => v))).toEqual([]);
    expect(Object.keys(CODE_2017_TO_2005)).toHaveLength(entries.length);
    for (const [code2005, code2017] of entries) {
      expect(to2017Code(code2005)).toBe(code2017);
      expect(to2005Code(code2017)).toBe(code2005);
      expect(to2017Code(to2005Code(code2017) ?? '')).toBe(code2017);
    }
  });

  it('every target is a 2017 factor, and agrees with its 原编码', () => {
    for (const [code2005, code2017] of entries) {
      const def = factor(code2017);
      expect(def, code2017).toBeDefined();
      if (def?.category !== 'noise') expect(def?.code2005, code2017).toBe(code2005);
    }
  });

  it('every 原编码 of tables B.1/B.2 is mapped', () => {
    const withOriginal = FACTORS.filter((d) => d.code2005 !== undefined);
    expect(withOriginal).toHaveLength(93);
    for (const d of withOriginal) expect(to2017Code(d.code2005 ?? ''), d.code).toBe(d.code);
  });

  it('known mappings and deliberate gaps', () => {
    expect(to2017Code('011')).toBe('w01018');
    expect(to2017Code('060')).toBe('w21003');
    expect(to2017Code('B01')).toBe('w00000');
    expect(to2017Code('B02')).toBe('a00000');
    expect(to2017Code('01')).toBe('a34013');
    expect(to2017Code('02')).toBe('a21026');
    expect(to2017Code('03')).toBe('a21002');
    expect(to2017Code('S01')).toBe('a19001');
    expect(to2017Code('S02')).toBe('a01011');
    expect(to2017Code('S03')).toBe('a01012');
    expect(to2005Code('w01018')).toBe('011');
    for (const gap of ['025', '16', '99', 'B03', 'Ld', 'Ln']) expect(to2017Code(gap), gap).toBeUndefined();
    expect(to2017Code('constructor')).toBeUndefined();
    expect(to2005Code('toString')).toBeUndefined();
    expect(to2005Code('a24088')).toBeUndefined();
  });
});
