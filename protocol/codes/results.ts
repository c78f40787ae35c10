import type { ResultCodeDef } from './types.js';

/** Table 6: ExeRtn, the result a logger reports in CN 9012. */
export const EXE_RTN: readonly ResultCodeDef[] = [
  { code: 1, name: '执行成功', nameEn: 'Executed successfully' },
  { code: 2, name: '执行失败，但不知道原因', nameEn: 'Execution failed, reason unknown' },
  { code: 3, name: '命令请求条件错误', nameEn: 'Command request condition error' },
  { code: 4, name: '通讯超时', nameEn: 'Communication timeout' },
  { code: 5, name: '系统繁忙不能执行', nameEn: 'System busy, cannot execute' },
  { code: 6, name: '系统故障', nameEn: 'System fault' },
  { code: 100, name: '没有数据', nameEn: 'No data' },
];

/** Table 7: QnRtn, the answer a logger gives in CN 9011 to a request. */
export const QN_RTN: readonly ResultCodeDef[] = [
  { code: 1, name: '准备执行请求', nameEn: 'Ready to execute the request' },
  { code: 2, name: '请求被拒绝', nameEn: 'Request rejected' },
  { code: 3, name: 'PW 错误', nameEn: 'Wrong password (PW)' },
  { code: 4, name: 'MN 错误', nameEn: 'Wrong device id (MN)' },
  { code: 5, name: 'ST 错误', nameEn: 'Wrong system code (ST)' },
  { code: 6, name: 'Flag 错误', nameEn: 'Wrong Flag' },
  { code: 7, name: 'QN 错误', nameEn: 'Wrong request id (QN)' },
  { code: 8, name: 'CN 错误', nameEn: 'Wrong command code (CN)' },
  { code: 9, name: 'CRC 校验错误', nameEn: 'CRC check failed' },
  { code: 100, name: '未知错误', nameEn: 'Unknown error' },
];

export const ExeRtn = {
  Success: 1,
  Failed: 2,
  BadCondition: 3,
  Timeout: 4,
  Busy: 5,
  Fault: 6,
  NoData: 100,
} as const;
export type ExeRtnCode = (typeof ExeRtn)[keyof typeof ExeRtn];

export const QnRtn = {
  Ready: 1,
  Rejected: 2,
  BadPassword: 3,
  BadMn: 4,
  BadSt: 5,
  BadFlag: 6,
  BadQn: 7,
  BadCn: 8,
  BadCrc: 9,
  Unknown: 100,
} as const;
export type QnRtnCode = (typeof QnRtn)[keyof typeof QnRtn];

const exeByCode = new Map(EXE_RTN.map((d) => [d.code, d]));
const qnByCode = new Map(QN_RTN.map((d) => [d.code, d]));

export function exeRtn(code: number): ResultCodeDef | undefined {
  return exeByCode.get(code);
}

export function qnRtn(code: number): ResultCodeDef | undefined {
  return qnByCode.get(code);
}
