/** Table 5 (ST). */
export interface SystemCodeDef {
  code: string;
  name: string;
  nameEn: string;
  since?: '2025';
}

/** Table 6 (ExeRtn) and table 7 (QnRtn). */
export interface ResultCodeDef {
  code: number;
  name: string;
  nameEn: string;
}

/** Table 8. */
export interface DataFlagDef {
  flag: string;
  name: string;
  nameEn: string;
  /** Only data measured while the analyzer runs normally (N) counts as valid. */
  valid: boolean;
}

export type CommandKind = 'request' | 'upload' | 'notice' | 'answer';

/** down = platform (上位机) to logger (现场机), up = logger to platform. */
export type CommandDirection = 'down' | 'up';

export interface CommandUse {
  direction: CommandDirection;
  kind: CommandKind;
  name: string;
  nameEn: string;
}

/** Table 9: one CN can be used in both directions with different meanings (e.g. 1011 get/upload time). */
export interface CommandDef {
  cn: string;
  group: 'init' | 'param' | 'data' | 'control' | 'interaction';
  uses: readonly CommandUse[];
  since?: '2025';
}

export type FactorCategory = 'water' | 'air' | 'noise' | 'water-process' | 'gas-process';

/** Appendix B tables B.1, B.2, B.3, B.5, B.7. */
export interface FactorDef {
  code: string;
  name: string;
  nameEn: string;
  category: FactorCategory;
  /** Concentration (or value) unit symbol, e.g. 'mg/L', 'mg/m3', 'L/s', '℃', 'dimensionless'. */
  unit?: string;
  /** Unit as printed in the standard, e.g. '毫克/升'. */
  unitZh?: string;
  /** Unit of the emission amount (Cou), e.g. 'kg', 'm3', 'g', 'mg'. */
  amountUnit?: string;
  /** Default data type of the concentration, e.g. 'N5.1'. */
  dataType?: string;
  /** HJ/T 212-2005 code (原编码 column). */
  code2005?: string;
}

/** Tables B.4 and B.6: treatment processes whose digit is the second character of e/g factor codes. */
export interface ProcessDef {
  code: string;
  name: string;
  nameEn: string;
  /** 类别 column where the standard prints one. */
  group?: string;
}

/** Tables B.8 (device classes) and B.9 (information classes). */
export interface InfoClassDef {
  code: string;
  name: string;
  nameEn: string;
}

/** Table B.10. */
export interface InfoCodeDef {
  code: string;
  name: string;
  nameEn: string;
  /** Code of table B.8: '1' analyzer, '2' data logger, '3' auxiliary equipment. */
  deviceClass?: string;
  infoClass?: 'log' | 'state' | 'parameter' | string;
  unit?: string;
  unitZh?: string;
  dataType?: string;
  /** Enumerated values as printed, e.g. { '0': '运行', '1': '维护' }. */
  values?: Readonly<Record<string, string>>;
  valuesEn?: Readonly<Record<string, string>>;
}

/** Table 1. */
export interface TimeoutDef {
  link: string;
  timeoutS: number;
  retries: number;
}
