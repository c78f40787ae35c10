import type { CommandDef, CommandDirection, CommandKind, CommandUse } from './types.js';

const down = (kind: CommandKind, name: string, nameEn: string): CommandUse => ({
  direction: 'down',
  kind,
  name,
  nameEn,
});
const up = (kind: CommandKind, name: string, nameEn: string): CommandUse => ({ direction: 'up', kind, name, nameEn });

/**
 * Table 9. The interaction commands (9011-9014) have no 命令类型 in the table; they are typed 'answer'.
 * 9013 and 9014 are listed in both columns: whichever side receives a notice or a data upload answers it.
 */
export const COMMANDS: readonly CommandDef[] = [
  // 初始化命令
  {
    cn: '1000',
    group: 'init',
    uses: [down('request', '设置超时时间及重发次数', 'Set timeout and retry count')],
  },
  {
    // 2025 addition (third-party descriptions, unverified): the logger reports its hardware serial number
    // when it connects, so that a platform can tell a replaced box from a re-registered one.
    cn: '1001',
    group: 'init',
    since: '2025',
    uses: [up('upload', '上传数采仪硬件序列号', 'Upload logger hardware serial number')],
  },
  {
    // 2025 addition (third-party descriptions, unverified): the platform assigns the logger its MN.
    cn: '1002',
    group: 'init',
    since: '2025',
    uses: [down('request', '设置现场机 MN', 'Set logger MN')],
  },
  // 参数命令
  {
    cn: '1011',
    group: 'param',
    uses: [down('request', '提取现场机时间', 'Get logger time'), up('upload', '上传现场机时间', 'Upload logger time')],
  },
  { cn: '1012', group: 'param', uses: [down('request', '设置现场机时间', 'Set logger time')] },
  {
    cn: '1013',
    group: 'param',
    uses: [up('notice', '现场机时间校准请求', 'Logger time calibration request')],
  },
  {
    // 2025 addition (third-party descriptions, unverified): the SM4 key is set by the platform or fetched by the
    // logger.
    cn: '1014',
    group: 'param',
    since: '2025',
    uses: [
      down('request', '设置新密钥', 'Set new encryption key'),
      up('request', '获取新密钥', 'Request new encryption key'),
    ],
  },
  {
    cn: '1061',
    group: 'param',
    uses: [
      down('request', '提取实时数据间隔', 'Get real-time data interval'),
      up('upload', '上传实时数据间隔', 'Upload real-time data interval'),
    ],
  },
  { cn: '1062', group: 'param', uses: [down('request', '设置实时数据间隔', 'Set real-time data interval')] },
  {
    cn: '1063',
    group: 'param',
    uses: [
      down('request', '提取分钟数据间隔', 'Get minute data interval'),
      up('upload', '上传分钟数据间隔', 'Upload minute data interval'),
    ],
  },
  { cn: '1064', group: 'param', uses: [down('request', '设置分钟数据间隔', 'Set minute data interval')] },
  { cn: '1072', group: 'param', uses: [down('request', '设置现场机密码', 'Set logger password')] },
  // 数据命令
  {
    cn: '2011',
    group: 'data',
    uses: [
      down('request', '取污染物实时数据', 'Start real-time pollutant data'),
      up('upload', '上传污染物实时数据', 'Upload real-time pollutant data'),
    ],
  },
  {
    cn: '2012',
    group: 'data',
    uses: [down('notice', '停止察看污染物实时数据', 'Stop real-time pollutant data')],
  },
  {
    // 2025 addition (third-party descriptions, unverified): VOC raw measurements with peak data and spectra.
    cn: '2013',
    group: 'data',
    since: '2025',
    uses: [up('upload', '上传 VOCs 原始监测数据', 'Upload VOC raw monitoring data')],
  },
  {
    cn: '2021',
    group: 'data',
    uses: [
      down('request', '取设备运行状态数据', 'Start equipment run-state data'),
      up('upload', '上传设备运行状态数据', 'Upload equipment run-state data'),
    ],
  },
  {
    cn: '2022',
    group: 'data',
    uses: [down('notice', '停止察看设备运行状态', 'Stop equipment run-state data')],
  },
  {
    cn: '2031',
    group: 'data',
    uses: [
      down('request', '取污染物日历史数据', 'Get daily pollutant history'),
      up('upload', '上传污染物日历史数据', 'Upload daily pollutant history'),
    ],
  },
  {
    cn: '2041',
    group: 'data',
    uses: [
      down('request', '取设备运行时间日历史数据', 'Get daily equipment run-time history'),
      up('upload', '上传设备运行时间日历史数据', 'Upload daily equipment run-time history'),
    ],
  },
  {
    cn: '2051',
    group: 'data',
    uses: [
      down('request', '取污染物分钟数据', 'Get minute pollutant data'),
      up('upload', '上传污染物分钟数据', 'Upload minute pollutant data'),
    ],
  },
  {
    // 2025 addition (third-party descriptions, unverified): one noise measurement (a single Leq run).
    cn: '2052',
    group: 'data',
    since: '2025',
    uses: [up('upload', '上传噪声单次测量数据', 'Upload noise single measurement data')],
  },
  {
    cn: '2061',
    group: 'data',
    uses: [
      down('request', '取污染物小时数据', 'Get hourly pollutant data'),
      up('upload', '上传污染物小时数据', 'Upload hourly pollutant data'),
    ],
  },
  {
    // 2025 addition (third-party descriptions, unverified): the result of an automatic standard check (标样核查).
    cn: '2062',
    group: 'data',
    since: '2025',
    uses: [up('upload', '上传自动标样核查数据', 'Upload automatic standard-check data')],
  },
  { cn: '2081', group: 'data', uses: [up('upload', '上传数采仪开机时间', 'Upload data logger boot time')] },
  {
    // 2025 addition (third-party descriptions, unverified): waste incineration furnace temperature, 5-minute mean.
    cn: '2111',
    group: 'data',
    since: '2025',
    uses: [up('upload', '上传炉膛温度 5 分钟均值', 'Upload furnace temperature 5-minute average')],
  },
  // 控制命令
  { cn: '3011', group: 'control', uses: [down('request', '零点校准量程校准', 'Zero and span calibration')] },
  { cn: '3012', group: 'control', uses: [down('request', '即时采样', 'Immediate sampling')] },
  { cn: '3013', group: 'control', uses: [down('request', '启动清洗/反吹', 'Start cleaning / back-blowing')] },
  { cn: '3014', group: 'control', uses: [down('request', '比对采样', 'Comparison sampling')] },
  {
    cn: '3015',
    group: 'control',
    uses: [
      down('request', '超标留样', 'Retain sample on exceedance'),
      up('upload', '上传超标留样信息', 'Upload retained-sample information'),
    ],
  },
  { cn: '3016', group: 'control', uses: [down('request', '设置采样时间周期', 'Set sampling period')] },
  {
    cn: '3017',
    group: 'control',
    uses: [
      down('request', '提取采样时间周期', 'Get sampling period'),
      up('upload', '上传采样时间周期', 'Upload sampling period'),
    ],
  },
  {
    cn: '3018',
    group: 'control',
    uses: [
      down('request', '提取出样时间', 'Get sample output time'),
      up('upload', '上传出样时间', 'Upload sample output time'),
    ],
  },
  {
    cn: '3019',
    group: 'control',
    uses: [
      down('request', '提取设备唯一标识', 'Get analyzer unique id'),
      up('upload', '上传设备唯一标识', 'Upload analyzer unique id'),
    ],
  },
  {
    cn: '3020',
    group: 'control',
    uses: [
      down('request', '提取现场机信息', 'Get field information'),
      up('upload', '上传现场机信息', 'Upload field information'),
    ],
  },
  { cn: '3021', group: 'control', uses: [down('request', '设置现场机参数', 'Set field parameters')] },
  {
    // 2025 addition (third-party descriptions, unverified): retain a sample now, not on an exceedance (cf. 3015).
    cn: '3022',
    group: 'control',
    since: '2025',
    uses: [down('request', '即时留样任务', 'Instant sample-retention task')],
  },
  {
    // 2025 addition (third-party descriptions, unverified): start an automatic standard check; results come as 2062.
    cn: '3024',
    group: 'control',
    since: '2025',
    uses: [down('request', '启动标样核查', 'Start standard check')],
  },
  // 交互命令
  { cn: '9011', group: 'interaction', uses: [up('answer', '请求应答', 'Request answer (QnRtn)')] },
  { cn: '9012', group: 'interaction', uses: [up('answer', '执行结果', 'Execution result (ExeRtn)')] },
  {
    cn: '9013',
    group: 'interaction',
    uses: [down('answer', '通知应答', 'Notice answer'), up('answer', '通知应答', 'Notice answer')],
  },
  {
    cn: '9014',
    group: 'interaction',
    uses: [down('answer', '数据应答', 'Data answer'), up('answer', '数据应答', 'Data answer')],
  },
  {
    // 2025 addition (third-party descriptions, unverified): keeps the link alive; the platform answers with 9013.
    cn: '9015',
    group: 'interaction',
    since: '2025',
    uses: [up('notice', '心跳包', 'Heartbeat')],
  },
];

/** Table 9 预留命令范围: codes a peer may use for extensions of each group. */
export const RESERVED_CN_RANGES: readonly { group: CommandDef['group']; from: number; to: number }[] = [
  { group: 'init', from: 1001, to: 1010 },
  { group: 'param', from: 1073, to: 1999 },
  { group: 'data', from: 2082, to: 2999 },
  { group: 'control', from: 3022, to: 3999 },
  // 2017 reserved codes that HJ 212-2025 uses: 1001/1002, 2111, 3022/3024 and the heartbeat 9015.
  { group: 'interaction', from: 9015, to: 9999 },
];

export const CN = {
  SetTimeoutRetry: '1000',
  SerialUpload: '1001',
  SetMn: '1002',
  GetTime: '1011',
  SetTime: '1012',
  TimeCalibration: '1013',
  KeyUpdate: '1014',
  GetRtdInterval: '1061',
  SetRtdInterval: '1062',
  GetMinInterval: '1063',
  SetMinInterval: '1064',
  SetPassword: '1072',
  RealtimeData: '2011',
  StopRealtimeData: '2012',
  VocRawData: '2013',
  RunState: '2021',
  StopRunState: '2022',
  DayData: '2031',
  RunTimeDay: '2041',
  MinuteData: '2051',
  NoiseSingle: '2052',
  HourData: '2061',
  StandardCheckData: '2062',
  BootTime: '2081',
  FurnaceTemp5Min: '2111',
  Calibrate: '3011',
  SampleNow: '3012',
  CleanBlowback: '3013',
  ComparisonSample: '3014',
  RetainSample: '3015',
  SetSamplePeriod: '3016',
  GetSamplePeriod: '3017',
  GetSampleOutputTime: '3018',
  GetAnalyzerId: '3019',
  FieldInfo: '3020',
  SetFieldParams: '3021',
  InstantRetainSample: '3022',
  StartStandardCheck: '3024',
  QnRtn: '9011',
  ExeRtn: '9012',
  NoticeAnswer: '9013',
  DataAnswer: '9014',
  Heartbeat: '9015',
} as const;
export type CnCode = (typeof CN)[keyof typeof CN];

const byCn = new Map(COMMANDS.map((d) => [d.cn, d]));

export function command(cn: string): CommandDef | undefined {
  return byCn.get(cn);
}

export function commandUse(cn: string, direction: CommandDirection): CommandUse | undefined {
  return byCn.get(cn)?.uses.find((u) => u.direction === direction);
}
