/**
 * HJ/T 212-2005 pollutant codes (its appendix B, after 《环境信息标准化手册》 vol. 3) mapped to the
 * HJ 212-2017 codes, using the 原编码 column of tables B.1 and B.2.
 *
 * Left out on purpose:
 * - B03 噪声 (noise, no single 2017 quantity), 16 苯系物 (benzene series), 99 其他气污染物 (other air
 *   pollutants) and 025 三价铬 (trivalent chromium): no 2017 row names them as its original code.
 * - Ld and Ln: the 2005 table labels Ld 夜间 (night) and Ln 昼间 (day), the reverse of 2017 table B.3
 *   and of the d/n in the names, so a 2005 Ld cannot be mapped with confidence.
 * Noise codes the two versions share are mapped to themselves so that a decoder recognises them.
 */
export const CODE_2005_TO_2017: Readonly<Record<string, string>> = {
  // Water, in the 2005 table.
  B01: 'w00000',
  '001': 'w01001',
  '002': 'w01002',
  '003': 'w01012',
  '010': 'w01017',
  '011': 'w01018',
  '015': 'w01020',
  '020': 'w20111',
  '021': 'w20113',
  '022': 'w20115',
  '023': 'w20116',
  '024': 'w20117',
  '026': 'w20119',
  '027': 'w20120',
  '028': 'w20121',
  '029': 'w20122',
  '030': 'w20123',
  '031': 'w20124',
  '032': 'w20125',
  '033': 'w20126',
  '034': 'w20127',
  '035': 'w20128',
  '036': 'w20092',
  '037': 'w20023',
  '038': 'w20061',
  '039': 'w20012',
  '040': 'w20038',
  '041': 'w20089',
  '060': 'w21003',
  '061': 'w99001',
  '065': 'w21001',
  '080': 'w22001',
  '101': 'w21011',
  // Water, only in the 原编码 column (the 2005 appendix lists a part of the handbook's codes).
  '062': 'w21004',
  '063': 'w21006',
  '064': 'w21007',
  '070': 'w21016',
  '071': 'w21019',
  '072': 'w21017',
  '090': 'w21022',
  '110': 'w23002',
  '350': 'w33001',
  '351': 'w33007',
  '520': 'w19002',
  '540': 'w25043',
  '550': 'w02003',
  '570': 'w03001',
  '571': 'w03002',
  // Flue gas parameters.
  B02: 'a00000',
  S01: 'a19001',
  S02: 'a01011',
  S03: 'a01012',
  S04: 'a01017',
  S05: 'a01014',
  S06: 'a01015',
  S07: 'a01016',
  S08: 'a01013',
  // Air pollutants.
  '01': 'a34013',
  '02': 'a21026',
  '03': 'a21002',
  '04': 'a21005',
  '05': 'a21028',
  '06': 'a21018',
  '07': 'a21017',
  '08': 'a21024',
  '09': 'a34038',
  '10': 'a21001',
  '11': 'a21022',
  '12': 'a99051',
  '13': 'a30022',
  '14': 'a34039',
  '15': 'a34040',
  '17': 'a25003',
  '18': 'a25005',
  '19': 'a31001',
  '20': 'a25044',
  '21': 'a26001',
  // 2005 says 硝基苯类 and 氯苯类 (nitrobenzenes, chlorobenzenes); 2017 narrows them to the single compounds.
  '22': 'a25023',
  '23': 'a25010',
  '24': 'a99049',
  // 2005: 碳氢化合物(含非甲烷总烃), hydrocarbons including NMHC.
  '25': 'a24087',
  '26': 'a31002',
  '27': 'a23001',
  '28': 'a30001',
  '29': 'a24046',
  '30': 'a05001',
  '31': 'a20057',
  '32': 'a20043',
  '33': 'a20025',
  '34': 'a20091',
  '35': 'a20063',
  '36': 'a20016',
  '37': 'a01010',
  // Noise. 2005 defines Leq as a 30-second equivalent level; 2017 leaves the period open.
  L5: 'L5',
  L10: 'L10',
  L50: 'L50',
  L90: 'L90',
  L95: 'L95',
  Leq: 'Leq',
  Ldn: 'Ldn',
  LMx: 'LMx',
  LMn: 'LMn',
};

export const CODE_2017_TO_2005: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(CODE_2005_TO_2017).map(([code2005, code2017]) => [code2017, code2005]),
);

// Own keys only: codes come off the wire, and 'constructor' must not find Object.prototype.
const has = (record: Readonly<Record<string, string>>, key: string): boolean => Object.hasOwn(record, key);

export function to2017Code(code2005: string): string | undefined {
  return has(CODE_2005_TO_2017, code2005) ? CODE_2005_TO_2017[code2005] : undefined;
}

export function to2005Code(code2017: string): string | undefined {
  return has(CODE_2017_TO_2005, code2017) ? CODE_2017_TO_2005[code2017] : undefined;
}
