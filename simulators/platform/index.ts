export {
  PlatformConfigSchema,
  FRAME_OVERHEAD,
  type PlatformConfig,
  type PlatformConfigInput,
  type StationConfig,
  type ScriptStep,
} from './config.js';
export { checkDataPacket, isDataCn, type CheckOutcome } from './checks.js';
export { observe, expire, newExchange, type ExchangeRecord } from './exchange.js';
export {
  ReportBuilder,
  renderReport,
  type ConformanceReport,
  type StationReport,
  type CheckTally,
  type RejectedFrame,
} from './report.js';
export { PlatformServer, type PlatformEvents } from './server.js';
