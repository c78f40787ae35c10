import { UNIT_SYMBOLS, type UnitZh } from './factors.js';
import type { InfoClassDef, InfoCodeDef } from './types.js';

/** Table B.8; 4-5 are reserved. */
export const DEVICE_CLASSES: readonly InfoClassDef[] = [
  { code: '1', name: '在线监控（监测）仪器仪表', nameEn: 'Online monitoring analyzer' },
  { code: '2', name: '数据采集传输仪', nameEn: 'Data acquisition and transmission logger' },
  { code: '3', name: '辅助设备', nameEn: 'Auxiliary equipment' },
];

/** Table B.9; 4-5 are reserved. */
export const INFO_CLASSES: readonly InfoClassDef[] = [
  { code: '1', name: '日志', nameEn: 'Log' },
  { code: '2', name: '状态', nameEn: 'State' },
  { code: '3', name: '参数', nameEn: 'Parameter' },
];

const INFO_CLASS_KEYS: Readonly<Record<string, InfoCodeDef['infoClass']>> = {
  '1': 'log',
  '2': 'state',
  '3': 'parameter',
};

type Enumeration = readonly (readonly [value: string, name: string, nameEn: string])[];

const NORMAL_ABNORMAL: Enumeration = [
  ['0', '正常', 'Normal'],
  ['1', '异常', 'Abnormal'],
];
const RUN_STOP_FAULT_MAINTENANCE: Enumeration = [
  ['0', '运行', 'Running'],
  ['1', '停机', 'Stopped'],
  ['2', '故障', 'Fault'],
  ['3', '维护', 'Maintenance'],
];

/** '' stands for a cell printed '--' ("单位、数据类型根据实际自定义": left to the implementation). */
type InfoRow = readonly [
  code: string,
  name: string,
  unitZh: UnitZh | '年月日时分秒' | '',
  dataType: string,
  nameEn: string,
  values?: Enumeration,
];

/**
 * Table B.10. A code is i + device class (B.8) + information class (B.9) + a 3-character number,
 * which is where deviceClass and infoClass come from.
 */
const ROWS: readonly InfoRow[] = [
  // Log texts are sent between "//" and encoded in UTF-8.
  ['i11001', '运行日志', '', 'C890', 'Analyzer run log'],
  [
    'i12001',
    '工作状态',
    '无量纲',
    'N2',
    'Analyzer work state',
    // No value 4 is printed; the list goes from 校准（3） to 反吹（5）.
    [
      ['0', '运行', 'Running'],
      ['1', '维护', 'Maintenance'],
      ['2', '故障', 'Fault'],
      ['3', '校准', 'Calibration'],
      ['5', '反吹', 'Back-blowing'],
      ['6', '电源故障', 'Power failure'],
      ['7', '测量', 'Measuring'],
      ['8', '标定', 'Standardization'],
      ['9', '待机', 'Standby'],
      ['10', '运维', 'Operation and maintenance'],
    ],
  ],
  ['i12002', '分析仪与数采仪通讯状态', '无量纲', 'N1', 'Analyzer-to-logger communication state', NORMAL_ABNORMAL],
  [
    'i12003',
    'COD 分析仪报警状态',
    '无量纲',
    'N1',
    'COD analyzer alarm state',
    [
      ['0', '正常', 'Normal'],
      ['1', '报警', 'Alarm'],
    ],
  ],
  ['i13001', '测量量程', '', '', 'Measuring range'],
  ['i13002', '测量精度', '', '', 'Measuring precision'],
  ['i13003', '测量间隔', '分钟', 'N4', 'Measuring interval'],
  ['i13004', '消解温度', '摄氏度', 'N3.1', 'Digestion temperature'],
  ['i13005', '消解时长', '分钟', 'N2', 'Digestion duration'],
  // Printed with unit 年月日时分秒 and data type "YYYYMMDD HHMMSS" over two lines.
  ['i13006', '校准时间', '年月日时分秒', 'YYYYMMDDHHMMSS', 'Calibration time'],
  ['i13007', '截距', '', '', 'Intercept'],
  ['i13008', '斜率', '', '', 'Slope'],
  ['i13009', '测量检出限', '', '', 'Detection limit'],
  ['i21001', '运行日志', '', 'C890', 'Data logger run log'],
  ['i22001', '工作状态', '无量纲', 'N1', 'Data logger work state', RUN_STOP_FAULT_MAINTENANCE],
  [
    'i22002',
    '用户状态',
    '无量纲',
    'N1',
    'User state',
    [
      ['0', '普通用户', 'Ordinary user'],
      ['1', '管理员', 'Administrator'],
      ['2', '维护人员', 'Maintenance staff'],
    ],
  ],
  ['i22003', '数采仪与上位机通讯状态', '无量纲', 'N1', 'Logger-to-platform communication state', NORMAL_ABNORMAL],
  [
    'i22101',
    '数采仪通道通讯状态',
    '无量纲',
    'N1',
    'Logger channel communication state',
    [...NORMAL_ABNORMAL, ['2', '通道未接设备', 'No device on the channel']],
  ],
  ['i23001', '本地大气压力', '千帕', 'N3.3', 'Local atmospheric pressure'],
  ['i31001', '门禁日志', '', 'C890', 'Access control log'],
  ['i32001', '门禁状态', '无量纲', 'N1', 'Access control state', RUN_STOP_FAULT_MAINTENANCE],
  ['i33001', 'CEMS 伴热管温度', '摄氏度', 'N4', 'CEMS heated sample line temperature'],
  // N1.1 as printed: one integer digit is too few for a condenser temperature.
  ['i33002', 'CEMS 冷凝温度', '摄氏度', 'N1.1', 'CEMS condenser temperature'],
  ['i33101', '监测站房温度', '摄氏度', 'N4', 'Monitoring station room temperature'],
  // ℃ as printed for a humidity; presumably %.
  ['i33102', '监测站房湿度', '摄氏度', 'N4', 'Monitoring station room humidity'],
  ['i33103', '监测站房电压', '伏[特]', 'N4', 'Monitoring station room voltage'],
  ['i33104', '监测站房原水压力', '千帕', 'N6', 'Monitoring station raw water pressure'],
  ['i33105', '监测站房进样压力 1', '千帕', 'N6', 'Monitoring station sample inlet pressure 1'],
  ['i33106', '监测站房进样压力 2', '千帕', 'N6', 'Monitoring station sample inlet pressure 2'],
  ['i33107', '沉砂池清洗时间', '秒', 'N4', 'Grit chamber cleaning time'],
  ['i33200', '污水处理站（厂）电流量', '安[培]', 'N4.2', 'Wastewater treatment plant current'],
  ['i33201', '污水处理站（厂）累计耗电量', '千瓦[特][小]时', 'N13', 'Wastewater treatment plant cumulative power use'],
  ['i33202', '污水处理站（厂）日耗电量', '千瓦[特][小]时', 'N7', 'Wastewater treatment plant daily power use'],
  // i3331x-i3334x: x is the measuring point number 0-9; sent on change or at a fixed interval.
  ['i3331x', '炉膛内上部焚烧温度', '摄氏度', 'N4.1', 'Furnace upper combustion temperature'],
  ['i3332x', '炉膛内中部焚烧温度', '摄氏度', 'N4.1', 'Furnace middle combustion temperature'],
  ['i3333x', '炉膛内下部焚烧温度', '摄氏度', 'N4.1', 'Furnace lower combustion temperature'],
  ['i3334x', '炉膛内二次空气喷入点温度', '摄氏度', 'N4.1', 'Furnace secondary air injection point temperature'],
  // Printed I33400 (capital I), the only upper-case i-code. Taken from the plant DCS where it has one, else from a
  // sensor.
  ['i33400', '生产负荷', '%', 'N3.1', 'Production load'],
];

function infoDef([code, name, unitZh, dataType, nameEn, values]: InfoRow): InfoCodeDef {
  return {
    code,
    name,
    nameEn,
    deviceClass: code.charAt(1),
    infoClass: INFO_CLASS_KEYS[code.charAt(2)],
    ...(unitZh === '年月日时分秒' ? { unitZh } : unitZh ? { unit: UNIT_SYMBOLS[unitZh], unitZh } : {}),
    ...(dataType ? { dataType } : {}),
    ...(values
      ? {
          values: Object.fromEntries(values.map(([v, zh]) => [v, zh])),
          valuesEn: Object.fromEntries(values.map(([v, , en]) => [v, en])),
        }
      : {}),
  };
}

export const INFO_CODES: readonly InfoCodeDef[] = ROWS.map(infoDef);

const byCode = new Map(INFO_CODES.map((d) => [d.code, d]));

/**
 * Case-insensitive because the standard itself prints I33400. Point-numbered codes are found with
 * a concrete number (i33312 finds i3331x).
 */
export function infoCode(code: string): InfoCodeDef | undefined {
  const lower = code.toLowerCase();
  return byCode.get(lower) ?? (/^i333[1-4]\d$/.test(lower) ? byCode.get(`${lower.slice(0, 5)}x`) : undefined);
}
