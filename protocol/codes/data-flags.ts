import type { DataFlagDef } from './types.js';

/** Table 8. */
export const DATA_FLAGS: readonly DataFlagDef[] = [
  {
    flag: 'N',
    name: '在线监控（监测）仪器仪表工作正常',
    nameEn: 'Analyzer operating normally',
    valid: true,
  },
  { flag: 'F', name: '在线监控（监测）仪器仪表停运', nameEn: 'Analyzer stopped', valid: false },
  {
    flag: 'M',
    name: '在线监控（监测）仪器仪表处于维护期间产生的数据',
    nameEn: 'Data produced during analyzer maintenance',
    valid: false,
  },
  // Manually entered values are not measurements; whether a regulator accepts them is decided elsewhere.
  { flag: 'S', name: '手工输入的设定值', nameEn: 'Manually entered set value', valid: false },
  { flag: 'D', name: '在线监控（监测）仪器仪表故障', nameEn: 'Analyzer fault', valid: false },
  {
    flag: 'C',
    name: '在线监控（监测）仪器仪表处于校准状态',
    nameEn: 'Analyzer in calibration',
    valid: false,
  },
  {
    flag: 'T',
    name: '在线监控（监测）仪器仪表采样数值超过测量上限',
    nameEn: 'Sampled value above the measuring range',
    valid: false,
  },
  {
    flag: 'B',
    name: '在线监控（监测）仪器仪表与数采仪通讯异常',
    nameEn: 'Analyzer-to-logger communication failure',
    valid: false,
  },
];

const byFlag = new Map(DATA_FLAGS.map((d) => [d.flag, d]));

export function dataFlag(flag: string): DataFlagDef | undefined {
  return byFlag.get(flag);
}

export function isValidFlag(flag: string): boolean {
  return byFlag.get(flag)?.valid === true;
}
