export {
  LoggerConfigSchema,
  stationsOf,
  type LoggerConfig,
  type LoggerConfigInput,
  type StationSpec,
} from './config.js';
export {
  handleRequest,
  HISTORY_LIMIT,
  type Identity,
  type LoggerState,
  type StateChange,
  type Handled,
} from './requests.js';
export {
  realtimeCp,
  aggregateCp,
  periodStarts,
  nextBoundary,
  OUTLET_FACTORS,
  OUTLET_ST,
  type Outlet,
  type Script,
  type ScriptedEvent,
} from './values.js';
export {
  rawCp,
  noiseCp,
  furnaceCp,
  standardCheckCp,
  leq,
  isNoiseDay,
  type StandardCheckConfig,
} from './values-2025.js';
export { SimLogger, type StationOptions, type Data2025Options } from './station.js';
export { startLoggers, runLoggers, type LoggerFleet, type RunOptions } from './run.js';
export type { RunSummary, CnCounts } from './summary.js';
