import type { FactorCategory, FactorDef, ProcessDef } from './types.js';

/** Symbols for the units appendix B prints in Chinese (brackets mark the optional part of a unit's name). */
export const UNIT_SYMBOLS = {
  '升/秒': 'L/s',
  立方米: 'm3',
  '立方米/秒': 'm3/s',
  '立方米/小时': 'm3/h',
  无量纲: 'dimensionless',
  '[色]度': 'degree',
  '[角]度': '°',
  '毫克/升': 'mg/L',
  '微克/升': 'μg/L',
  '纳克/升': 'ng/L',
  '毫克/立方米': 'mg/m3',
  '纳克/立方米': 'ng/m3',
  '千克/立方米': 'kg/m3',
  千克: 'kg',
  克: 'g',
  毫克: 'mg',
  摄氏度: '℃',
  '微西[门子]/厘米': 'μS/cm',
  '个/升': 'count/L',
  '贝可[勒尔]/升': 'Bq/L',
  '%': '%',
  帕: 'Pa',
  千帕: 'kPa',
  '米/秒': 'm/s',
  米: 'm',
  平方米: 'm2',
  '吨/平方千米•月': 't/(km2·month)',
  分贝: 'dB',
  '安[培]': 'A',
  '毫伏[特]': 'mV',
  '伏[特]': 'V',
  '千瓦[特][小]时': 'kWh',
  '转/分钟': 'r/min',
  分钟: 'min',
  秒: 's',
} as const;

export type UnitZh = keyof typeof UNIT_SYMBOLS;

/** '' stands for a cell printed blank or '--'. */
type PollutantRow = readonly [
  code: string,
  name: string,
  code2005: string,
  unitZh: UnitZh | '',
  amountUnitZh: UnitZh | '',
  dataType: string,
  nameEn: string,
];
type ItemRow = readonly [code: string, name: string, unitZh: UnitZh, dataType: string, nameEn: string];

function unitFields(unitZh: UnitZh | ''): Pick<FactorDef, 'unit' | 'unitZh'> {
  return unitZh ? { unit: UNIT_SYMBOLS[unitZh], unitZh } : {};
}

function pollutant(category: FactorCategory, row: PollutantRow): FactorDef {
  const [code, name, code2005, unitZh, amountUnitZh, dataType, nameEn] = row;
  return {
    code,
    name,
    nameEn,
    category,
    ...unitFields(unitZh),
    ...(amountUnitZh ? { amountUnit: UNIT_SYMBOLS[amountUnitZh] } : {}),
    ...(dataType ? { dataType } : {}),
    ...(code2005 ? { code2005 } : {}),
  };
}

function item(category: FactorCategory, [code, name, unitZh, dataType, nameEn]: ItemRow): FactorDef {
  return { code, name, nameEn, category, ...unitFields(unitZh), dataType };
}

// Columns: code, name, 原编码 (HJ/T 212-2005 code), unit (concentration), unit (amount), data type, English.

/** Table B.1 (after HJ 525-2009). */
const WATER: readonly PollutantRow[] = [
  ['w00000', '污水', 'B01', '升/秒', '立方米', 'N5.2', 'Wastewater (flow)'],
  ['w01001', 'pH 值', '001', '无量纲', '', 'N2.2', 'pH'],
  ['w01002', '色度', '002', '[色]度', '', 'N3.2', 'Color (chromaticity)'],
  ['w01006', '溶解性总固体', '', '毫克/升', '千克', 'N4', 'Total dissolved solids'],
  ['w01009', '溶解氧', '', '毫克/升', '', 'N3.1', 'Dissolved oxygen'],
  ['w01010', '水温', '', '摄氏度', '', 'N3.1', 'Water temperature'],
  ['w01012', '悬浮物', '003', '毫克/升', '千克', 'N4', 'Suspended solids'],
  ['w01014', '电导率', '', '微西[门子]/厘米', '', 'N3.1', 'Conductivity'],
  ['w01017', '五日生化需氧量', '010', '毫克/升', '千克', 'N5.1', 'BOD5 (five-day biochemical oxygen demand)'],
  ['w01018', '化学需氧量', '011', '毫克/升', '千克', 'N5.1', 'COD (chemical oxygen demand)'],
  ['w01019', '高锰酸盐指数', '', '毫克/升', '千克', 'N3.1', 'Permanganate index'],
  ['w01020', '总有机碳', '015', '毫克/升', '千克', 'N3.1', 'Total organic carbon (TOC)'],
  ['w02003', '粪大肠菌群', '550', '个/升', '', 'N9', 'Fecal coliforms'],
  ['w02006', '细菌总数', '', '个/升', '', 'N9', 'Total bacterial count'],
  ['w03001', '总 α 放射性', '570', '贝可[勒尔]/升', '', 'N3.1', 'Gross alpha radioactivity'],
  ['w03002', '总 β 放射性', '571', '贝可[勒尔]/升', '', 'N3.1', 'Gross beta radioactivity'],
  ['w19001', '表面活性剂', '', '毫克/升', '千克', 'N3.2', 'Surfactants'],
  ['w19002', '阴离子表面活性剂', '520', '毫克/升', '千克', 'N3.2', 'Anionic surfactants'],
  ['w20012', '钡', '039', '毫克/升', '千克', 'N3.3', 'Barium'],
  ['w20023', '硼', '037', '毫克/升', '千克', 'N3.3', 'Boron'],
  ['w20038', '钴', '040', '毫克/升', '千克', 'N3.4', 'Cobalt'],
  ['w20061', '钼', '038', '毫克/升', '千克', 'N3.4', 'Molybdenum'],
  ['w20089', '铊', '041', '纳克/升', '毫克', 'N4', 'Thallium'],
  ['w20092', '锡', '036', '毫克/升', '千克', 'N3.1', 'Tin'],
  ['w20111', '总汞', '020', '微克/升', '克', 'N3.2', 'Total mercury'],
  ['w20113', '烷基汞', '021', '纳克/升', '毫克', 'N4', 'Alkyl mercury'],
  ['w20115', '总镉', '022', '微克/升', '克', 'N3.1', 'Total cadmium'],
  ['w20116', '总铬', '023', '毫克/升', '千克', 'N3.3', 'Total chromium'],
  ['w20117', '六价铬', '024', '微克/升', '克', 'N2.3', 'Hexavalent chromium'],
  ['w20119', '总砷', '026', '微克/升', '克', 'N2.3', 'Total arsenic'],
  ['w20120', '总铅', '027', '微克/升', '克', 'N4', 'Total lead'],
  ['w20121', '总镍', '028', '毫克/升', '千克', 'N3.2', 'Total nickel'],
  ['w20122', '总铜', '029', '毫克/升', '千克', 'N3.2', 'Total copper'],
  ['w20123', '总锌', '030', '毫克/升', '千克', 'N3.3', 'Total zinc'],
  ['w20124', '总锰', '031', '毫克/升', '千克', 'N3.3', 'Total manganese'],
  ['w20125', '总铁', '032', '毫克/升', '千克', 'N3.3', 'Total iron'],
  ['w20126', '总银', '033', '毫克/升', '千克', 'N3.3', 'Total silver'],
  ['w20127', '总铍', '034', '微克/升', '克', 'N3.3', 'Total beryllium'],
  ['w20128', '总硒', '035', '微克/升', '克', 'N4.2', 'Total selenium'],
  ['w20138', '铜', '', '毫克/升', '千克', 'N3.3', 'Copper'],
  ['w20139', '锌', '', '毫克/升', '千克', 'N3.3', 'Zinc'],
  ['w20140', '硒', '', '毫克/升', '千克', 'N3.3', 'Selenium'],
  ['w20141', '砷', '', '毫克/升', '千克', 'N3.3', 'Arsenic'],
  ['w20142', '汞', '', '微克/升', '克', 'N3.3', 'Mercury'],
  ['w20143', '镉', '', '微克/升', '克', 'N3.3', 'Cadmium'],
  ['w20144', '铅', '', '毫克/升', '千克', 'N3.3', 'Lead'],
  ['w21001', '总氮', '065', '毫克/升', '千克', 'N4.2', 'Total nitrogen'],
  ['w21003', '氨氮', '060', '毫克/升', '千克', 'N4.2', 'Ammonia nitrogen (NH3-N)'],
  ['w21004', '凯氏氮', '062', '毫克/升', '千克', 'N3.1', 'Kjeldahl nitrogen'],
  ['w21006', '亚硝酸盐', '063', '毫克/升', '千克', 'N2.3', 'Nitrite'],
  ['w21007', '硝酸盐', '064', '毫克/升', '千克', 'N2.3', 'Nitrate'],
  ['w21011', '总磷', '101', '毫克/升', '千克', 'N3.2', 'Total phosphorus'],
  ['w21016', '氰化物', '070', '毫克/升', '千克', 'N3.3', 'Cyanide'],
  ['w21017', '氟化物', '072', '毫克/升', '千克', 'N4.2', 'Fluoride'],
  ['w21019', '硫化物', '071', '毫克/升', '千克', 'N3.3', 'Sulfide'],
  ['w21022', '氯化物', '090', '毫克/升', '千克', 'N3.1', 'Chloride'],
  ['w21038', '硫酸盐', '', '毫克/升', '千克', 'N6', 'Sulfate'],
  ['w22001', '石油类', '080', '毫克/升', '千克', 'N3.2', 'Petroleum oils'],
  ['w23002', '挥发酚', '110', '毫克/升', '千克', 'N3.4', 'Volatile phenols'],
  // Printed 苯并[α]芘 here but 苯并[a]芘 in B.2 (a25044); both are benzo[a]pyrene.
  ['w25043', '苯并[α]芘', '540', '微克/升', '克', 'N3.1', 'Benzo[a]pyrene'],
  ['w33001', '六六六', '350', '纳克/升', '毫克', 'N4', 'HCH (hexachlorocyclohexane)'],
  ['w33007', '滴滴涕', '351', '纳克/升', '毫克', 'N4', 'DDT'],
  ['w99001', '有机氮', '061', '毫克/升', '千克', 'N3.1', 'Organic nitrogen'],
];

/** Table B.2 (after HJ 524-2009). */
const AIR: readonly PollutantRow[] = [
  ['a00000', '废气', 'B02', '立方米/秒', '立方米', 'N6.1', 'Flue gas (flow)'],
  ['a01001', '温度', '', '摄氏度', '', 'N3.1', 'Temperature'],
  ['a01002', '湿度', '', '%', '', 'N3.1', 'Humidity'],
  ['a01006', '气压', '', '千帕', '', 'N5.3', 'Atmospheric pressure'],
  ['a01007', '风速', '', '米/秒', '', 'N4.1', 'Wind speed'],
  ['a01008', '风向', '', '[角]度', '', 'N4', 'Wind direction'],
  ['a01010', '林格曼黑度', '37', '无量纲', '', 'N1', 'Ringelmann blackness'],
  ['a01011', '烟气流速', 'S02', '米/秒', '', 'N5.2', 'Flue gas velocity'],
  ['a01012', '烟气温度', 'S03', '摄氏度', '', 'N3.1', 'Flue gas temperature'],
  ['a01013', '烟气压力', 'S08', '千帕', '', 'N5.3', 'Flue gas pressure'],
  ['a01014', '烟气湿度', 'S05', '%', '', 'N3.1', 'Flue gas humidity'],
  ['a01015', '制冷温度', 'S06', '摄氏度', '', 'N3.1', 'Cooler temperature'],
  ['a01016', '烟道截面积', 'S07', '平方米', '', 'N4.2', 'Flue cross-section area'],
  ['a01017', '烟气动压', 'S04', '千帕', '', 'N5.3', 'Flue gas dynamic pressure'],
  // a01901, a01902: the name wraps over two lines in the PDF text; joined.
  ['a01901', '垃圾焚烧炉膛内焚烧平均温度', '', '摄氏度', '', 'N4.1', 'Incinerator furnace mean combustion temperature'],
  ['a01902', '垃圾焚烧炉膛内 DCS 温度', '', '摄氏度', '', 'N4.1', 'Incinerator furnace temperature (DCS)'],
  ['a05001', '二氧化碳', '30', '毫克/立方米', '千克', 'N3.3', 'CO2'],
  ['a05002', '甲烷', '', '纳克/立方米', '克', 'N4.1', 'Methane'],
  ['a05008', '三氯一氟甲烷', '', '毫克/立方米', '千克', 'N7.3', 'Trichlorofluoromethane'],
  ['a05009', '二氯二氟甲烷', '', '毫克/立方米', '千克', 'N7.3', 'Dichlorodifluoromethane'],
  ['a05013', '三氯三氟乙烷', '', '毫克/立方米', '千克', 'N7.3', 'Trichlorotrifluoroethane'],
  ['a19001', '氧气含量', 'S01', '%', '', 'N3.1', 'O2 content'],
  ['a20007', '砷', '', '纳克/立方米', '克', 'N1.6', 'Arsenic'],
  ['a20016', '铍及其化合物', '36', '毫克/立方米', '千克', 'N4.4', 'Beryllium and compounds'],
  ['a20025', '镉及其化合物', '33', '毫克/立方米', '千克', 'N3.4', 'Cadmium and compounds'],
  ['a20026', '镉', '', '纳克/立方米', '克', 'N3.3', 'Cadmium'],
  ['a20043', '铅及其化合物', '32', '毫克/立方米', '千克', 'N2.4', 'Lead and compounds'],
  ['a20044', '铅', '', '纳克/立方米', '克', 'N3.3', 'Lead'],
  ['a20057', '汞及其化合物', '31', '毫克/立方米', '千克', 'N4.4', 'Mercury and compounds'],
  ['a20058', '汞', '', '纳克/立方米', '克', 'N3.2', 'Mercury'],
  ['a20063', '镍及其化合物', '35', '毫克/立方米', '千克', 'N3.3', 'Nickel and compounds'],
  ['a20091', '锡及其化合物', '34', '毫克/立方米', '千克', 'N4.3', 'Tin and compounds'],
  // ng/m3 and g as printed, although the 2005 code 10 (氨) was in mg/m3; looks like a misprint for mg/m3 and kg.
  ['a21001', '氨（氨气）', '10', '纳克/立方米', '克', 'N4.3', 'Ammonia (NH3)'],
  ['a21002', '氮氧化物', '03', '毫克/立方米', '千克', 'N5.1', 'NOx'],
  ['a21003', '一氧化氮', '', '毫克/立方米', '千克', 'N4.1', 'NO'],
  ['a21004', '二氧化氮', '', '毫克/立方米', '千克', 'N4.1', 'NO2'],
  ['a21005', '一氧化碳', '04', '毫克/立方米', '千克', 'N3.3', 'CO'],
  ['a21017', '氰化物', '07', '毫克/立方米', '千克', 'N3.3', 'Cyanide'],
  ['a21018', '氟化物', '06', '毫克/立方米', '千克', 'N2.3', 'Fluoride'],
  ['a21022', '氯气', '11', '毫克/立方米', '千克', 'N4.3', 'Chlorine (Cl2)'],
  ['a21024', '氯化氢', '08', '毫克/立方米', '千克', 'N4.3', 'Hydrogen chloride (HCl)'],
  ['a21026', '二氧化硫', '02', '毫克/立方米', '千克', 'N5.2', 'SO2'],
  ['a21028', '硫化氢', '05', '毫克/立方米', '千克', 'N3.2', 'Hydrogen sulfide (H2S)'],
  ['a23001', '酚类', '27', '毫克/立方米', '千克', 'N3.3', 'Phenols'],
  ['a24003', '二氯甲烷', '', '毫克/立方米', '千克', 'N7.3', 'Dichloromethane'],
  ['a24004', '三氯甲烷', '', '毫克/立方米', '千克', 'N7.3', 'Trichloromethane (chloroform)'],
  ['a24005', '四氯甲烷', '', '毫克/立方米', '千克', 'N7.3', 'Tetrachloromethane'],
  ['a24006', '二溴一氯甲烷', '', '毫克/立方米', '千克', 'N7.3', 'Dibromochloromethane'],
  ['a24007', '一溴二氯甲烷', '', '毫克/立方米', '千克', 'N7.3', 'Bromodichloromethane'],
  ['a24008', '溴甲烷', '', '毫克/立方米', '千克', 'N7.3', 'Bromomethane'],
  ['a24009', '三溴甲烷', '', '毫克/立方米', '千克', 'N7.3', 'Tribromomethane (bromoform)'],
  ['a24015', '氯乙烷', '', '毫克/立方米', '千克', 'N7.3', 'Chloroethane'],
  ['a24016', '1,1-二氯乙烷', '', '毫克/立方米', '千克', 'N7.3', '1,1-Dichloroethane'],
  ['a24017', '1,2-二氯乙烷', '', '毫克/立方米', '千克', 'N7.3', '1,2-Dichloroethane'],
  ['a24018', '1,1,1-三氯乙烷', '', '毫克/立方米', '千克', 'N7.3', '1,1,1-Trichloroethane'],
  ['a24019', '1,1,2-三氯乙烷', '', '毫克/立方米', '千克', 'N7.3', '1,1,2-Trichloroethane'],
  ['a24020', '1,1,2,2-四氯乙烷', '', '毫克/立方米', '千克', 'N7.3', '1,1,2,2-Tetrachloroethane'],
  ['a24027', '1,2-二氯丙烷', '', '毫克/立方米', '千克', 'N7.3', '1,2-Dichloropropane'],
  ['a24034', '1,2-二溴乙烷', '', '毫克/立方米', '千克', 'N7.3', '1,2-Dibromoethane'],
  ['a24036', '环己烷', '', '毫克/立方米', '千克', 'N7.3', 'Cyclohexane'],
  ['a24042', '正己烷', '', '毫克/立方米', '千克', 'N7.3', 'n-Hexane'],
  ['a24043', '正庚烷', '', '毫克/立方米', '千克', 'N7.3', 'n-Heptane'],
  ['a24046', '氯乙烯', '29', '毫克/立方米', '千克', 'N4.3', 'Vinyl chloride'],
  ['a24047', '1,1-二氯乙烯', '', '毫克/立方米', '千克', 'N7.3', '1,1-Dichloroethylene'],
  ['a24049', '三氯乙烯', '', '毫克/立方米', '千克', 'N7.3', 'Trichloroethylene'],
  ['a24050', '四氯乙烯', '', '毫克/立方米', '千克', 'N7.3', 'Tetrachloroethylene'],
  ['a24053', '丙烯', '', '毫克/立方米', '千克', 'N7.3', 'Propylene'],
  ['a24054', '1,3-二氯丙烯', '', '毫克/立方米', '千克', 'N7.3', '1,3-Dichloropropene'],
  ['a24072', '1,4-二恶烷', '', '毫克/立方米', '千克', 'N7.3', '1,4-Dioxane'],
  ['a24078', '1,3-丁二烯', '', '毫克/立方米', '千克', 'N7.3', '1,3-Butadiene'],
  ['a24087', '碳氢化合物', '25', '毫克/立方米', '千克', 'N5.2', 'Hydrocarbons'],
  ['a24088', '非甲烷总烃', '', '毫克/立方米', '千克', 'N7.3', 'Non-methane hydrocarbons (NMHC)'],
  ['a24099', '氯甲烷', '', '毫克/立方米', '千克', 'N7.3', 'Chloromethane'],
  ['a24110', '反式-1,2-二氯乙烯', '', '毫克/立方米', '千克', 'N7.3', 'trans-1,2-Dichloroethylene'],
  ['a24111', '顺式-1,2-二氯乙烯', '', '毫克/立方米', '千克', 'N7.3', 'cis-1,2-Dichloroethylene'],
  ['a24112', '反式-1,3-二氯丙烯', '', '毫克/立方米', '千克', 'N7.3', 'trans-1,3-Dichloropropene'],
  ['a24113', '六氯-1,3-丁二烯', '', '毫克/立方米', '千克', 'N7.3', 'Hexachloro-1,3-butadiene'],
  ['a25002', '苯', '', '毫克/立方米', '千克', 'N7.3', 'Benzene'],
  ['a25003', '甲苯', '17', '毫克/立方米', '千克', 'N4.2', 'Toluene'],
  ['a25004', '乙苯', '', '毫克/立方米', '千克', 'N7.3', 'Ethylbenzene'],
  ['a25005', '二甲苯', '18', '毫克/立方米', '千克', 'N4.2', 'Xylene'],
  ['a25006', '1,2-二甲基苯', '', '毫克/立方米', '千克', 'N7.3', '1,2-Dimethylbenzene (o-xylene)'],
  ['a25007', '1,3-二甲基苯', '', '毫克/立方米', '千克', 'N7.3', '1,3-Dimethylbenzene (m-xylene)'],
  ['a25008', '1,4-二甲基苯', '', '毫克/立方米', '千克', 'N7.3', '1,4-Dimethylbenzene (p-xylene)'],
  ['a25010', '氯苯', '23', '毫克/立方米', '千克', 'N4.3', 'Chlorobenzene'],
  ['a25011', '1,2-二氯苯', '', '毫克/立方米', '千克', 'N7.3', '1,2-Dichlorobenzene'],
  ['a25012', '1,3-二氯苯', '', '毫克/立方米', '千克', 'N7.3', '1,3-Dichlorobenzene'],
  ['a25013', '1,4-二氯苯', '', '毫克/立方米', '千克', 'N7.3', '1,4-Dichlorobenzene'],
  ['a25014', '1-乙基-4-甲基苯', '', '毫克/立方米', '千克', 'N7.3', '1-Ethyl-4-methylbenzene'],
  ['a25015', '1,2,4-三氯苯', '', '毫克/立方米', '千克', 'N7.3', '1,2,4-Trichlorobenzene'],
  ['a25019', '1,2,4-三甲基苯', '', '毫克/立方米', '千克', 'N7.3', '1,2,4-Trimethylbenzene'],
  ['a25020', '1,2,3-三甲基苯', '', '毫克/立方米', '千克', 'N7.3', '1,2,3-Trimethylbenzene'],
  ['a25021', '1,3,5-三甲基苯', '', '毫克/立方米', '千克', 'N7.3', '1,3,5-Trimethylbenzene'],
  ['a25023', '硝基苯', '22', '毫克/立方米', '千克', 'N3.4', 'Nitrobenzene'],
  ['a25038', '乙烯基苯', '', '毫克/立方米', '千克', 'N7.3', 'Vinylbenzene (styrene)'],
  ['a25044', '苯并[a]芘', '20', '毫克/立方米', '千克', 'N4.3', 'Benzo[a]pyrene'],
  ['a25072', '四氢呋喃', '', '毫克/立方米', '千克', 'N7.3', 'Tetrahydrofuran'],
  ['a26001', '苯胺类', '21', '毫克/立方米', '千克', 'N4.3', 'Anilines'],
  ['a29017', '乙酸乙酯', '', '毫克/立方米', '千克', 'N7.3', 'Ethyl acetate'],
  ['a29026', '乙酸乙烯酯', '', '毫克/立方米', '千克', 'N7.3', 'Vinyl acetate'],
  ['a30001', '甲醇', '28', '毫克/立方米', '千克', 'N4.3', 'Methanol'],
  ['a30008', '异丙醇', '', '毫克/立方米', '千克', 'N7.3', 'Isopropanol'],
  ['a30022', '硫醇', '13', '毫克/立方米', '千克', 'N4.3', 'Mercaptans'],
  ['a31001', '甲醛', '19', '毫克/立方米', '千克', 'N3.3', 'Formaldehyde'],
  ['a31002', '乙醛', '26', '毫克/立方米', '千克', 'N3.4', 'Acetaldehyde'],
  ['a31024', '丙酮', '', '毫克/立方米', '千克', 'N7.3', 'Acetone'],
  ['a31025', '2-丁酮', '', '毫克/立方米', '千克', 'N7.3', '2-Butanone'],
  ['a31030', '甲基异丁基甲酮', '', '毫克/立方米', '千克', 'N7.3', 'Methyl isobutyl ketone'],
  ['a34001', '总悬浮颗粒物 TSP', '', '纳克/立方米', '克', 'N4.3', 'Total suspended particulates (TSP)'],
  // a34002, a34005: the name wraps over two lines in the PDF text; joined.
  ['a34002', '可吸入颗粒物 PM10', '', '纳克/立方米', '克', 'N3.3', 'Inhalable particulate matter (PM10)'],
  ['a34004', '细微颗粒物 PM2.5', '', '纳克/立方米', '克', 'N3.3', 'Fine particulate matter (PM2.5)'],
  ['a34005', '亚微米颗粒物 PM1.0', '', '纳克/立方米', '克', 'N3.3', 'Submicron particulate matter (PM1.0)'],
  // No amount unit and no data type printed.
  ['a34011', '降尘', '', '吨/平方千米•月', '', '', 'Dustfall'],
  ['a34013', '烟尘', '01', '毫克/立方米', '千克', 'N4', 'Particulate matter (smoke/dust)'],
  ['a34017', '炭黑尘', '', '毫克/立方米', '千克', 'N4', 'Carbon black dust'],
  ['a34038', '沥青烟', '09', '毫克/立方米', '千克', 'N4.3', 'Asphalt fume'],
  ['a34039', '硫酸雾', '14', '毫克/立方米', '千克', 'N4.3', 'Sulfuric acid mist'],
  ['a34040', '铬酸雾', '15', '毫克/立方米', '千克', 'N2.3', 'Chromic acid mist'],
  ['a99010', '丙烯腈', '', '毫克/立方米', '千克', 'N7.3', 'Acrylonitrile'],
  ['a99049', '光气', '24', '毫克/立方米', '千克', 'N3.3', 'Phosgene'],
  ['a99051', '二硫化碳', '12', '毫克/立方米', '千克', 'N4.3', 'Carbon disulfide'],
];

/**
 * Table B.3 (the quantities GB 3096-2008 asks for). The only codes that are not six characters; looked up
 * case-sensitively.
 */
const NOISE: readonly ItemRow[] = [
  ['LA', 'A 权声级', '分贝', 'N3.1', 'A-weighted sound level'],
  ['L5', '累计百分声级 L5', '分贝', 'N3.1', 'Percentile sound level L5'],
  ['L10', '累计百分声级 L10', '分贝', 'N3.1', 'Percentile sound level L10'],
  ['L50', '累计百分声级 L50', '分贝', 'N3.1', 'Percentile sound level L50'],
  ['L90', '累计百分声级 L90', '分贝', 'N3.1', 'Percentile sound level L90'],
  ['L95', '累计百分声级 L95', '分贝', 'N3.1', 'Percentile sound level L95'],
  ['Leq', '等效声级', '分贝', 'N3.1', 'Equivalent continuous sound level'],
  ['Ldn', '昼夜等效声级', '分贝', 'N3.1', 'Day-night equivalent sound level'],
  ['Ld', '昼间等效声级', '分贝', 'N3.1', 'Daytime equivalent sound level'],
  ['Ln', '夜间等效声级', '分贝', 'N3.1', 'Night-time equivalent sound level'],
  ['LMx', '最大的瞬时声级', '分贝', 'N3.1', 'Maximum instantaneous sound level'],
  ['LMn', '最小的瞬时声级', '分贝', 'N3.1', 'Minimum instantaneous sound level'],
];

/**
 * Table B.4. The second character of an e-code is this process code (e6xxxx: SBR); the last two
 * characters xx number identical equipment of one process, 01~99. The table reserves "a-b" for extensions.
 */
export const WATER_PROCESSES: readonly ProcessDef[] = [
  {
    code: '1',
    name: '污水处理厂进口污水流量及污染物',
    nameEn: 'Treatment plant inlet: flow and pollutants',
  },
  {
    code: '2',
    name: '污水处理厂出口污水流量及污染物',
    nameEn: 'Treatment plant outlet: flow and pollutants',
  },
  { code: '3', name: '传统活性污泥法', nameEn: 'Conventional activated sludge' },
  { code: '4', name: '氧化沟法', nameEn: 'Oxidation ditch' },
  // Printed "AO 法—A O 法" with the superscript 2 of A²O on the line above.
  { code: '5', name: 'AO 法—A²O 法', nameEn: 'A/O (anaerobic-oxic) / A2O (anaerobic-anoxic-oxic)' },
  { code: '6', name: 'SBR 法', nameEn: 'Sequencing batch reactor (SBR)' },
  { code: '7', name: '生物接触氧化法', nameEn: 'Biological contact oxidation' },
  { code: '8', name: '生物滤池法', nameEn: 'Biofilter' },
  { code: '9', name: '污水处理厂设计参数', nameEn: 'Treatment plant design parameters' },
];

/** Table B.6. Same scheme as table B.4 for g-codes; 7-8 are reserved. */
export const GAS_PROCESSES: readonly ProcessDef[] = [
  {
    code: '1',
    name: '湿法脱硫（石灰石/石灰-石膏法）',
    nameEn: 'Wet desulfurization (limestone/lime-gypsum)',
    group: '脱硫设施',
  },
  // 循环硫化床 as printed; the usual term is 循环流化床 (circulating fluidized bed).
  {
    code: '2',
    name: '半干法脱硫（循环硫化床法）',
    nameEn: 'Semi-dry desulfurization (circulating fluidized bed)',
    group: '脱硫设施',
  },
  { code: '3', name: 'SCR', nameEn: 'Selective catalytic reduction (SCR)', group: '脱硝设施' },
  { code: '4', name: 'SNCR', nameEn: 'Selective non-catalytic reduction (SNCR)', group: '脱硝设施' },
  { code: '5', name: '电除尘', nameEn: 'Electrostatic precipitator', group: '除尘' },
  { code: '6', name: '布袋除尘', nameEn: 'Bag filter', group: '除尘' },
];

/** Table B.5. */
const WATER_PROCESS_ITEMS: readonly ItemRow[] = [
  ['e101xx', '进水口流量', '升/秒', 'N6.2', 'Inlet flow'],
  ['e102xx', '进水口 COD', '毫克/升', 'N5.1', 'Inlet COD'],
  ['e103xx', '进水口氨氮', '毫克/升', 'N3.2', 'Inlet ammonia nitrogen'],
  ['e104xx', '进水口总磷', '毫克/升', 'N3.2', 'Inlet total phosphorus'],
  ['e105xx', '进水口总氮', '毫克/升', 'N5.1', 'Inlet total nitrogen'],
  ['e106xx', '进水口 pH', '无量纲', 'N2.2', 'Inlet pH'],
  ['e201xx', '出水口流量', '升/秒', 'N6.2', 'Outlet flow'],
  ['e202xx', '出水口 COD', '毫克/升', 'N5.1', 'Outlet COD'],
  ['e203xx', '出水口氨氮', '毫克/升', 'N3.2', 'Outlet ammonia nitrogen'],
  ['e204xx', '出水口总磷', '毫克/升', 'N3.2', 'Outlet total phosphorus'],
  ['e205xx', '出水口 PH', '无量纲', 'N2.2', 'Outlet pH'],
  ['e301xx', '污水提升泵', '安[培]', 'N4.2', 'Wastewater lift pump (current)'],
  ['e302xx', '鼓风机', '安[培]', 'N4.2', 'Blower (current)'],
  // mg/L as printed, an odd unit for an air volume.
  ['e303xx', '鼓风量', '毫克/升', 'N7', 'Blower air volume'],
  ['e304xx', '生化池污泥浓度', '毫克/升', 'N5.1', 'Biological tank sludge concentration'],
  ['e305xx', '生化池溶解氧浓度', '毫克/升', 'N5.1', 'Biological tank dissolved oxygen'],
  ['e306xx', '污泥剩余泵', '安[培]', 'N4.2', 'Excess sludge pump (current)'],
  ['e307xx', '污泥回流泵', '安[培]', 'N4.2', 'Sludge return pump (current)'],
  ['e308xx', '污泥回流量', '千克', 'N7', 'Returned sludge amount'],
  ['e309xx', '污泥剩余量', '千克', 'N7', 'Excess sludge amount'],
  ['e310xx', '污泥压滤机', '安[培]', 'N4.2', 'Sludge filter press (current)'],
  ['e311xx', '阀门状态', '无量纲', 'N1', 'Valve state'],
  ['e312xx', '储泥池液位', '米', 'N2.3', 'Sludge tank level'],
  ['e313xx', '加药量', '毫克/升', 'N5.1', 'Chemical dosage'],
  ['e314xx', '生化池氧化还原电位', '毫伏[特]', 'N7', 'Biological tank ORP'],
  ['e401xx', '污水提升泵', '安[培]', 'N4.2', 'Wastewater lift pump (current)'],
  ['e402xx', '曝气设备', '安[培]', 'N4.2', 'Aeration equipment (current)'],
  ['e403xx', '生化池污泥浓度', '毫克/升', 'N5.1', 'Biological tank sludge concentration'],
  ['e404xx', '厌氧池溶解氧浓度', '毫克/升', 'N5.1', 'Anaerobic tank dissolved oxygen'],
  ['e405xx', '缺氧池溶解氧浓度', '毫克/升', 'N5.1', 'Anoxic tank dissolved oxygen'],
  ['e406xx', '好氧池溶解氧浓度', '毫克/升', 'N5.1', 'Aerobic tank dissolved oxygen'],
  ['e407xx', '污泥剩余泵', '安[培]', 'N4.2', 'Excess sludge pump (current)'],
  ['e408xx', '污泥回流泵', '安[培]', 'N4.2', 'Sludge return pump (current)'],
  ['e409xx', '污泥回流量', '千克', 'N4.2', 'Returned sludge amount'],
  ['e410xx', '污泥剩余量', '千克', 'N4.2', 'Excess sludge amount'],
  ['e411xx', '污泥压滤机', '安[培]', 'N4.2', 'Sludge filter press (current)'],
  // 搅拌器转态 as printed (for 搅拌器状态, agitator state).
  ['e412xx', '搅拌器转态', '无量纲', 'N1', 'Agitator state'],
  ['e413xx', '阀门状态', '无量纲', 'N1', 'Valve state'],
  ['e414xx', '缺氧池氧化还原电位', '毫伏[特]', 'N7', 'Anoxic tank ORP'],
  ['e415xx', '好氧池氧化还原电位', '毫伏[特]', 'N7', 'Aerobic tank ORP'],
  ['e416xx', '提升泵池液位', '米', 'N2.3', 'Lift pump sump level'],
  ['e417xx', '储泥池液位', '米', 'N2.3', 'Sludge tank level'],
  ['e418xx', '加药量', '毫克/升', 'N5.1', 'Chemical dosage'],
  ['e501xx', '污水提升泵', '安[培]', 'N4.2', 'Wastewater lift pump (current)'],
  ['e502xx', '曝气设备', '安[培]', 'N4.2', 'Aeration equipment (current)'],
  ['e503xx', '供气量状态', '无量纲', 'N1', 'Air supply state'],
  ['e504xx', '生化池污泥浓度', '毫克/升', 'N5.1', 'Biological tank sludge concentration'],
  ['e505xx', '厌氧池溶解氧浓度', '毫克/升', 'N5.1', 'Anaerobic tank dissolved oxygen'],
  ['e506xx', '缺氧池溶解氧浓度', '毫克/升', 'N5.1', 'Anoxic tank dissolved oxygen'],
  ['e507xx', '好氧池溶解氧浓度', '毫克/升', 'N5.1', 'Aerobic tank dissolved oxygen'],
  ['e508xx', '混合液回流泵', '安[培]', 'N4.2', 'Mixed liquor return pump (current)'],
  ['e509xx', '剩余污泥泵', '安[培]', 'N4.2', 'Excess sludge pump (current)'],
  ['e510xx', '剩余污泥量', '千克', 'N7', 'Excess sludge amount'],
  ['e511xx', '搅拌器状态', '无量纲', 'N1', 'Agitator state'],
  ['e512xx', '阀门状态', '无量纲', 'N1', 'Valve state'],
  ['e513xx', '缺氧池氧化还原电位', '毫伏[特]', 'N7', 'Anoxic tank ORP'],
  ['e514xx', '好氧池氧化还原电位', '毫伏[特]', 'N7', 'Aerobic tank ORP'],
  ['e515xx', '提升泵池液位', '米', 'N2.3', 'Lift pump sump level'],
  ['e516xx', '储泥池液位', '米', 'N2.3', 'Sludge tank level'],
  ['e517xx', '加药量', '毫克/升', 'N5.1', 'Chemical dosage'],
  ['e601xx', '污水提升泵', '安[培]', 'N4.2', 'Wastewater lift pump (current)'],
  ['e602xx', '曝气设备', '安[培]', 'N4.2', 'Aeration equipment (current)'],
  ['e603xx', 'SBR 池污泥浓度', '毫克/升', 'N5.1', 'SBR tank sludge concentration'],
  ['e604xx', 'SBR 池溶解氧浓度', '毫克/升', 'N5.1', 'SBR tank dissolved oxygen'],
  ['e605xx', '污泥剩余泵', '安[培]', 'N4.2', 'Excess sludge pump (current)'],
  ['e606xx', '污泥回流泵', '安[培]', 'N4.2', 'Sludge return pump (current)'],
  ['e607xx', '污泥回流量', '千克', 'N7', 'Returned sludge amount'],
  ['e608xx', '污泥剩余量', '千克', 'N7', 'Excess sludge amount'],
  ['e609xx', '污泥压滤机', '安[培]', 'N4.2', 'Sludge filter press (current)'],
  ['e610xx', '搅拌器', '安[培]', 'N4.2', 'Agitator (current)'],
  // The name wraps over two lines in the PDF text; joined. e611xx-e613xx are not printed.
  ['e614xx', 'SBR 池曝气搅拌时氧化还原电位', '毫伏[特]', 'N7', 'SBR tank ORP during aeration and mixing'],
  ['e615xx', '阀门状态', '无量纲', 'N1', 'Valve state'],
  ['e616xx', '提升泵池液位', '米', 'N2.3', 'Lift pump sump level'],
  ['e617xx', '储泥池液位', '米', 'N2.3', 'Sludge tank level'],
  ['e701xx', '污水提升泵', '安[培]', 'N4.2', 'Wastewater lift pump (current)'],
  ['e702xx', '曝气设备', '安[培]', 'N4.2', 'Aeration equipment (current)'],
  ['e703xx', '接触氧化池污泥浓度', '毫克/升', 'N5.1', 'Contact oxidation tank sludge concentration'],
  ['e704xx', '接触氧化池溶解氧浓度', '毫克/升', 'N5.1', 'Contact oxidation tank dissolved oxygen'],
  ['e705xx', '剩余污泥泵', '安[培]', 'N4.2', 'Excess sludge pump (current)'],
  ['e706xx', '剩余污泥量', '千克', 'N7', 'Excess sludge amount'],
  ['e707xx', '污泥压滤机', '安[培]', 'N4.2', 'Sludge filter press (current)'],
  ['e708xx', '阀门状态', '无量纲', 'N1', 'Valve state'],
  ['e709xx', '提升泵池液位', '米', 'N2.3', 'Lift pump sump level'],
  ['e710xx', '储泥池液位', '米', 'N2.3', 'Sludge tank level'],
  ['e801xx', '污水提升泵', '安[培]', 'N4.2', 'Wastewater lift pump (current)'],
  ['e802xx', '曝气设备', '安[培]', 'N4.2', 'Aeration equipment (current)'],
  ['e803xx', '污泥浓度', '毫克/升', 'N5.1', 'Sludge concentration'],
  ['e804xx', '溶解氧浓度', '毫克/升', 'N5.1', 'Dissolved oxygen'],
  ['e805xx', '剩余污泥泵', '安[培]', 'N4.2', 'Excess sludge pump (current)'],
];

/** Table B.7. */
const GAS_PROCESS_ITEMS: readonly ItemRow[] = [
  ['g101xx', '增压风机状态', '无量纲', 'N1', 'Booster fan state'],
  ['g102xx', '增压风机电流', '安[培]', 'N4.2', 'Booster fan current'],
  ['g103xx', '浆液循环泵状态', '无量纲', 'N1', 'Slurry circulation pump state'],
  ['g104xx', '浆液循环泵电流', '安[培]', 'N4.2', 'Slurry circulation pump current'],
  // g105xx, g106xx: 密封剂 (sealant) as printed; possibly meant 密封风机 (seal air fan).
  ['g105xx', '密封剂状态', '无量纲', 'N1', 'Seal (sealant) state'],
  ['g106xx', '密封剂电流', '安[培]', 'N4.2', 'Seal (sealant) current'],
  ['g107xx', 'GGH 运行状态', '无量纲', 'N1', 'GGH (gas-gas heater) running state'],
  ['g108xx', 'GGH 电机电流', '安[培]', 'N4.2', 'GGH motor current'],
  ['g109xx', '浆液泵状态', '无量纲', 'N1', 'Slurry pump state'],
  ['g110xx', '浆液泵流量', '立方米/小时', 'N4.3', 'Slurry pump flow'],
  ['g111xx', '脱硫塔内浆液 pH', '无量纲', 'N2.2', 'Slurry pH in desulfurization tower'],
  ['g112xx', '吸收塔除雾器状态', '无量纲', 'N1', 'Absorber demister state'],
  // 除物器 as printed (for 除雾器, demister).
  ['g113xx', '吸收塔除物器电流', '安[培]', 'N4.2', 'Absorber demister current'],
  ['g114xx', '吸收塔搅拌器状态', '无量纲', 'N1', 'Absorber agitator state'],
  ['g115xx', '吸收塔浆液密度', '千克/立方米', 'N3.3', 'Absorber slurry density'],
  ['g116xx', '旁路挡板门开度', '[角]度', 'N4', 'Bypass damper opening'],
  ['g117xx', '石膏排除泵状态', '无量纲', 'N1', 'Gypsum discharge pump state'],
  ['g118xx', '石膏排除泵电流', '安[培]', 'N4.2', 'Gypsum discharge pump current'],
  ['g119xx', '脱硫率', '%', 'N3.2', 'Desulfurization efficiency'],
  ['g201xx', '脱硫塔内喷水泵电流', '安[培]', 'N4.2', 'Desulfurization tower spray water pump current'],
  ['g202xx', '脱硫剂输送装置', '安[培]', 'N4.2', 'Sorbent conveyor (current)'],
  ['g203xx', '称重给煤机计量信号', '无量纲', 'N1', 'Gravimetric coal feeder metering signal'],
  ['g204xx', '炉膛床压', '帕', 'N7', 'Furnace bed pressure'],
  ['g205xx', '炉膛床温', '摄氏度', 'N5.1', 'Furnace bed temperature'],
  ['g206xx', '冷渣器转速', '转/分钟', 'N6', 'Bottom ash cooler speed'],
  ['g207xx', '返料风机电流', '安[培]', 'N4.2', 'Loop-seal (return) fan current'],
  ['g208xx', '引风机电流', '安[培]', 'N4.2', 'Induced draft fan current'],
  ['g209xx', '一次风机电流', '安[培]', 'N4.2', 'Primary air fan current'],
  ['g210xx', '二次风机电流', '安[培]', 'N4.2', 'Secondary air fan current'],
  ['g211xx', '石灰石给料机电流', '安[培]', 'N4.2', 'Limestone feeder current'],
  ['g212xx', '脱硫率', '%', 'N3.1', 'Desulfurization efficiency'],
  ['g301xx', '氨喷射系统电流', '安[培]', 'N4.2', 'Ammonia injection system current'],
  ['g302xx', '稀释风机状态', '无量纲', 'N1', 'Dilution fan state'],
  ['g303xx', '稀释风机电流', '安[培]', 'N4.2', 'Dilution fan current'],
  ['g304xx', '氨泵风机状态', '无量纲', 'N1', 'Ammonia pump/fan state'],
  ['g305xx', '氨泵风机电流', '安[培]', 'N4.2', 'Ammonia pump/fan current'],
  ['g306xx', '旁路挡板状态', '无量纲', 'N1', 'Bypass damper state'],
  ['g307xx', '旁路挡板开度', '[角]度', 'N4', 'Bypass damper opening'],
  ['g308xx', '旁路挡板左右压差', '千帕', 'N5.3', 'Bypass damper differential pressure'],
  ['g120xx', '入口氮氧化物 NOx', '毫克/立方米', 'N3.3', 'Inlet NOx'],
  ['g121xx', '入口含氧量 O2', '%', 'N3.1', 'Inlet O2'],
  ['g122xx', '入口流量', '立方米/小时', 'N4.3', 'Inlet flow'],
  ['g123xx', '入口温度', '摄氏度', 'N3.1', 'Inlet temperature'],
  ['g124xx', '入口烟尘', '毫克/立方米', 'N3.3', 'Inlet particulate matter'],
  ['g125xx', '入口压力', '千帕', 'N5.3', 'Inlet pressure'],
  ['g126xx', '入口湿度', '%', 'N3.1', 'Inlet humidity'],
  ['g127xx', '出口二氧化硫 SO2', '毫克/立方米', 'N3.3', 'Outlet SO2'],
  ['g128xx', '出口氮氧化物 NOx', '毫克/立方米', 'N3.3', 'Outlet NOx'],
  ['g129xx', '出口含氧量 O2', '%', 'N3.1', 'Outlet O2'],
  ['g130xx', '出口流量', '立方米/小时', 'N4.3', 'Outlet flow'],
  ['g131xx', '出口温度', '摄氏度', 'N3.1', 'Outlet temperature'],
  ['g132xx', '出口烟尘', '毫克/立方米', 'N3.3', 'Outlet particulate matter'],
  ['g133xx', '出口压力', '千帕', 'N5.3', 'Outlet pressure'],
  ['g134xx', '出口湿度', '%', 'N3.1', 'Outlet humidity'],
];

export const FACTORS: readonly FactorDef[] = [
  ...WATER.map((r) => pollutant('water', r)),
  ...AIR.map((r) => pollutant('air', r)),
  ...NOISE.map((r) => item('noise', r)),
  ...WATER_PROCESS_ITEMS.map((r) => item('water-process', r)),
  ...GAS_PROCESS_ITEMS.map((r) => item('gas-process', r)),
];

/**
 * Rows the standard prints under a code that an earlier row already uses. They are kept apart so that
 * FACTORS stays a function of the code; a decoder meeting these codes cannot tell the two meanings apart.
 */
export const DUPLICATE_CODE_ROWS: readonly FactorDef[] = [
  // Last row of the contact-oxidation group (after e710xx); by the pattern of the other groups it was meant to be
  // e711xx.
  item('water-process', ['e701xx', '加药量', '毫克/升', 'N5.1', 'Chemical dosage']),
  // First row of the inlet/outlet block printed after g308xx (g119xx-g134xx), which restarts inside the g1 range.
  item('gas-process', ['g119xx', '入口二氧化硫 SO2', '毫克/立方米', 'N3.3', 'Inlet SO2']),
];

const byCode = new Map(FACTORS.map((d) => [d.code, d]));

/** 氧气含量, O2 content in %: the O2 that converted (Zs) values are computed from (HJ 212-2017 D.2.3 eq. 28). */
export const O2_CODE = 'a19001';

/**
 * Looks a factor up by its code. Process codes are also found with a concrete equipment number
 * (e30101 finds e301xx), since that is how they appear in packets.
 */
export function factor(code: string): FactorDef | undefined {
  const exact = byCode.get(code);
  if (exact || !/^[eg]\d{5}$/.test(code)) return exact;
  return byCode.get(`${code.slice(0, 4)}xx`);
}
