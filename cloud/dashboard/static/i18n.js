/* global document, localStorage */
import { factorLabel, FLAGS, flagLabel, unitLabel, valueShown } from './format.js';
// Labels in Chinese (the default: the centre's operators read it) and English.
// Each label as [Chinese, English]: one line per label, so neither language can miss one.
const LABELS = {
  title: ['污染源自动监控', 'Pollution-source online monitoring'],
  'nav.stations': ['站点', 'Stations'],
  'nav.alarms': ['告警', 'Alarms'],
  'nav.report': ['报表', 'Report'],
  live: ['实时', 'live'],
  logout: ['退出', 'Log out'],
  'login.title': ['登录', 'Log in'],
  'login.user': ['用户名', 'User name'],
  'login.password': ['密码', 'Password'],
  'login.submit': ['登录', 'Log in'],
  'login.bad': ['用户名或密码错误', 'Wrong user name or password'],
  'login.locked': ['登录失败次数过多，请稍后再试', 'Too many failed logins: try again later'],
  'login.badToken': ['令牌无效', 'Token refused'],
  'login.ended': ['会话已结束，请重新登录', 'The session has ended: log in again'],
  enterprise: ['企业', 'Enterprise'],
  outlet: ['排口', 'Outlet'],
  mn: ['MN', 'MN'],
  type: ['类型', 'Type'],
  water: ['废水', 'water'],
  gas: ['废气', 'gas'],
  state: ['状态', 'State'],
  online: ['在线', 'online'],
  offline: ['离线', 'offline'],
  lastSeen: ['最后数据时间', 'Last packet'],
  current: ['当前值', 'Current values'],
  openAlarms: ['未关闭告警', 'Open alarms'],
  full: ['全部联网', 'fully connected'],
  partial: ['部分联网', 'partly connected'],
  none: ['未联网', 'not connected'],
  outletsOnline: ['在线排口', 'outlets online'],
  never: ['从未上线', 'never seen'],
  time: ['时间', 'Time'],
  rtd: ['实时', 'real-time'],
  minute: ['分钟', 'minute'],
  hour: ['小时', 'hour'],
  day: ['日', 'day'],
  from: ['开始', 'From'],
  to: ['结束', 'To'],
  apply: ['查询', 'Show'],
  kind: ['数据类型', 'Data'],
  limit: ['限值', 'limit'],
  upper: ['上限', 'upper limit'],
  lower: ['下限', 'lower limit'],
  flaggedPts: ['标记点', 'flagged points'],
  exceedPts: ['超标点', 'exceeding points'],
  missingHours: ['缺失小时', 'missing hours'],
  shutdownWindows: ['停产时段', 'shutdown windows'],
  points: ['数据点', 'points'],
  alarms: ['告警', 'Alarms'],
  all: ['全部', 'all'],
  open: ['未关闭', 'open'],
  closed: ['已关闭', 'closed'],
  id: ['编号', 'ID'],
  factor: ['因子', 'Factor'],
  opened: ['开始时间', 'Opened'],
  closedAt: ['结束时间', 'Closed'],
  value: ['数值', 'Value'],
  multiple: ['超标倍数', 'Multiple'],
  ack: ['确认', 'Acknowledged'],
  comment: ['备注', 'comment'],
  acknowledge: ['确认', 'Acknowledge'],
  station: ['站点', 'Station'],
  'alarm.exceedance': ['超标', 'exceedance'],
  'alarm.warning': ['预警', 'warning'],
  warnPts: ['预警点', 'warning points'],
  backfilledPts: ['补传点', 'back-filled points'],
  'closedBy.backfill': ['已补传', 'back-filled'],
  'closedBy.manual': ['手工补录', 'entered by hand'],
  converted: ['折算', 'converted'],
  measured: ['实测', 'measured'],
  flags: ['数据标记', 'Data flags'],
  monthLabel: ['月份', 'Month'],
  enterprises: ['企业', 'Enterprises'],
  outlets: ['排口数', 'Outlets'],
  hoursBackfilled: ['补传小时数', 'Hours back-filled'],
  'alarm.negative': ['负值', 'negative value'],
  'alarm.zero': ['零值', 'zero value'],
  'alarm.constant': ['恒值', 'constant value'],
  'alarm.offline': ['离线', 'offline'],
  'alarm.missing-hour': ['小时数据缺失', 'missing hour'],
  'alarm.password-guessing': ['密码猜测', 'password guessing'],
  report: ['报表', 'Report'],
  dayLabel: ['日期', 'Day'],
  transmissionRate: ['传输率', 'Transmission rate'],
  validityRate: ['有效率', 'Validity rate'],
  effectivenessRate: ['传输有效率', 'Effectiveness rate'],
  hoursMissing: ['缺失小时数', 'Hours missing'],
  hoursExceeding: ['超标小时数', 'Hours exceeding'],
  csv: ['导出 CSV', 'Export CSV'],
  raised: ['告警时间', 'Raised'],
  followUp: ['跟进', 'Follow-up'],
  'followUp.notified': ['已通知企业', 'enterprise notified'],
  'followUp.handled': ['已处理', 'handled'],
  'followUp.set': ['更新跟进', 'Set'],
  'nav.overview': ['首页', 'Overview'],
  overview: ['首页', 'Overview'],
  onlineRate: ['在线率', 'Online rate'],
  exceedingNow: ['当前超标站点', 'Stations exceeding now'],
  warningNow: ['当前预警站点', 'Stations with a warning now'],
  notReporting: ['未上报站点', 'Stations not reporting'],
  todayEffectiveness: ['今日传输有效率', "Today's effectiveness rate"],
  openByKind: ['未关闭告警（按类型）', 'Open alarms by kind'],
  stationsUnit: ['个站点', 'stations'],
  region: ['区域', 'Region'],
  noRegion: ['未分区', 'no region'],
  search: ['搜索名称或 MN', 'Search name or MN'],
  tree: ['区域 / 企业 / 排口', 'Region / enterprise / outlet'],
  noMatch: ['无匹配站点', 'no station matches'],
  'status.offline': ['仅离线', 'offline only'],
  'status.online': ['仅在线', 'online only'],
  'nav.history': ['历史数据', 'History'],
  history: ['历史数据', 'History data'],
  dataTime: ['数据时间', 'Data time'],
  flag: ['标记', 'Flag'],
  xlsx: ['导出 Excel', 'Export Excel'],
  print: ['打印', 'Print'],
  prevPage: ['上一页', 'Previous'],
  nextPage: ['下一页', 'Next'],
  pageOf: ['第 {page} / {pages} 页，共 {total} 条', 'page {page} of {pages}, {total} rows'],
  noData: ['该时段无数据', 'no data in this range'],
  truncated: [
    '记录过多，仅显示前 100000 条，请缩小时段',
    'too many records: the first 100,000 are shown, narrow the range',
  ],
  'field.Rtd': ['实时值', 'Rtd'],
  'field.ZsRtd': ['折算实时值', 'ZsRtd'],
  'field.Avg': ['均值', 'Avg'],
  'field.ZsAvg': ['折算均值', 'ZsAvg'],
  'field.Min': ['最小值', 'Min'],
  'field.ZsMin': ['折算最小值', 'ZsMin'],
  'field.Max': ['最大值', 'Max'],
  'field.ZsMax': ['折算最大值', 'ZsMax'],
  'field.Cou': ['排放量', 'Cou'],
  reportKind: ['报表类型', 'Report'],
  'period.day': ['日报', 'daily'],
  'period.month': ['月报', 'monthly'],
  'period.quarter': ['季报', 'quarterly'],
  'period.year': ['年报', 'yearly'],
  periodLabel: ['时段', 'Period'],
  emissions: ['排放量', 'Emission amounts'],
  emissionsNote: [
    '排放量为各小时 Cou 之和（HJ 212-2017 附录 D），无小时数据的日取日数据 Cou；仅计有效数据。',
    "Sum of the hours' Cou (HJ 212-2017 appendix D); a day without hours from its day record; valid data only.",
  ],
  'amount.w00000': ['废水排放量', 'Wastewater discharged'],
  'amount.a00000': ['废气排放量', 'Flue gas emitted'],
  noEmissions: ['本时段无排放量数据（Cou）', 'no emission amounts (Cou) in this period'],
  limitLine: ['标准限值', 'limit'],
  warnLine: ['预警值', '预警 threshold'],
  backfilledHours: ['补传时段', 'back-filled periods'],
  control: ['反控', 'Remote control'],
  'control.command': ['命令', 'Command'],
  'control.send': ['发送', 'Send'],
  'control.confirm': ['确认发送', 'Confirm and send'],
  'control.cancel': ['取消', 'Cancel'],
  'control.ask': ['将向现场机发送以下命令，请确认：', 'This request will be sent to the logger; please confirm:'],
  'control.readOnly': ['只读账号只能查看请求记录。', 'A read-only account sees the requests only.'],
  'control.centreTime': ['以中心当前时间校时', 'with the centre’s time now'],
  'control.params': ['参数', 'Parameters'],
  'control.by': ['发送人', 'Sent by'],
  'control.sentAt': ['发送时间', 'Sent'],
  'control.answers': ['应答', 'Answers'],
  'control.recent': ['最近请求', 'Recent requests'],
  'control.none': ['暂无请求', 'no request yet'],
  'control.factor': ['监测因子', 'Factor'],
  'control.records': ['条记录', 'records'],
  'cmd.sent': ['已发送', 'sent'],
  'cmd.refused': ['已拒绝', 'refused'],
  'cmd.executing': ['执行中', 'executing'],
  'cmd.done': ['完成', 'done'],
  'cmd.timed-out': ['超时', 'timed out'],
  'cmd.not-connected': ['未连接', 'not connected'],
  RtdInterval: ['实时数据间隔（秒）', 'Real-time interval (s)'],
  MinInterval: ['分钟数据间隔（分钟）', 'Minute interval (min)'],
  InfoId: ['信息编码', 'Information code'],
  CstartTime: ['采样起始时间（时分秒）', 'Sampling start (hhmmss)'],
  Ctime: ['采样周期（小时）', 'Sampling period (h)'],
  BeginTime: ['开始', 'From'],
  EndTime: ['结束', 'To'],
  SystemTime: ['时间', 'Time'],
};

const KEY = 'hj212.lang';

export const lang = () => (localStorage.getItem(KEY) === 'en' ? 'en' : 'zh');

export const t = (key, vars = {}) =>
  Object.entries(vars).reduce(
    (s, [k, v]) => s.replace(`{${k}}`, String(v)),
    LABELS[key]?.[lang() === 'en' ? 1 : 0] ?? key,
  );

/** Factor names come from the standard's appendix B through the API, in both languages. */
export const factorName = (info, code) => factorLabel(code, info, lang());

/** A factor's unit as shown (无量纲 for pH in Chinese, m3/h for flue gas flow). */
export const unitName = (code, unit) => unitLabel(code, unit, lang());

/** A value in that unit. */
export const shownValue = (code, unit, v) => valueShown(code, unit, v);

/** "N 正常 · F 停运 · ...": the legend of the data flags (HJ 212-2017 table 8). */
export const flagLegend = () =>
  Object.keys(FLAGS)
    .map((f) => flagLabel(f, lang()))
    .join(' · ');

export const flagName = (flag) => flagLabel(flag, lang());

/** Relabels the static shell; views re-render themselves. */
export function applyLabels() {
  document.documentElement.lang = lang() === 'en' ? 'en' : 'zh-CN';
  document.title = t('title');
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  document.getElementById('lang').textContent = lang() === 'en' ? '中文' : 'English';
}

export function toggleLang() {
  localStorage.setItem(KEY, lang() === 'en' ? 'zh' : 'en');
  applyLabels();
}
