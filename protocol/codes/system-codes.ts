import type { SystemCodeDef } from './types.js';

/** HJ 212-2017 table 5 (after GB/T 16706-1996), plus the HJ 212-2025 additions. */
export const SYSTEM_CODES: readonly SystemCodeDef[] = [
  { code: '21', name: '地表水质量监测', nameEn: 'Surface water quality monitoring' },
  { code: '22', name: '空气质量监测', nameEn: 'Air quality monitoring' },
  { code: '23', name: '声环境质量监测', nameEn: 'Acoustic environment quality monitoring' },
  { code: '24', name: '地下水质量监测', nameEn: 'Groundwater quality monitoring' },
  { code: '25', name: '土壤质量监测', nameEn: 'Soil quality monitoring' },
  { code: '26', name: '海水质量监测', nameEn: 'Seawater quality monitoring' },
  { code: '27', name: '挥发性有机物监测', nameEn: 'Volatile organic compounds monitoring' },
  { code: '31', name: '大气环境污染源', nameEn: 'Air pollution source' },
  { code: '32', name: '地表水体环境污染源', nameEn: 'Surface water pollution source' },
  { code: '33', name: '地下水体环境污染源', nameEn: 'Groundwater pollution source' },
  { code: '34', name: '海洋环境污染源', nameEn: 'Marine pollution source' },
  { code: '35', name: '土壤环境污染源', nameEn: 'Soil pollution source' },
  { code: '36', name: '声环境污染源', nameEn: 'Noise pollution source' },
  { code: '37', name: '振动环境污染源', nameEn: 'Vibration pollution source' },
  { code: '38', name: '放射性环境污染源', nameEn: 'Radioactive pollution source' },
  { code: '39', name: '工地扬尘污染源', nameEn: 'Construction site dust pollution source' },
  { code: '41', name: '电磁环境污染源', nameEn: 'Electromagnetic pollution source' },
  // The 2025 text was not available here: these names come from third-party descriptions of it (unverified).
  { code: '44', name: '用电监控', nameEn: 'Power use monitoring', since: '2025' },
  { code: '45', name: '关键生产工况', nameEn: 'Production working conditions', since: '2025' },
  { code: '51', name: '烟气排放过程监控', nameEn: 'Flue gas emission process monitoring' },
  { code: '52', name: '污水排放过程监控', nameEn: 'Wastewater discharge process monitoring' },
  { code: '91', name: '系统交互', nameEn: 'System interaction (logger/platform exchange)' },
];

const byCode = new Map(SYSTEM_CODES.map((d) => [d.code, d]));

export function systemCode(code: string): SystemCodeDef | undefined {
  return byCode.get(code);
}
