/** Simulated analyzers (Modbus RTU/TCP slaves) with documented register maps and scripted scenarios. */
export { warpedClock } from '../shared/clock.js';
export type { SimClock } from '../shared/clock.js';
export {
  analyzerConfigSchema,
  deviceSchema,
  loadAnalyzerConfig,
  loadScenarioFile,
  parseAnalyzerConfig,
  planSimulation,
  rtuSchema,
  tcpSchema,
} from './config.js';
export type { AnalyzerConfig, AnalyzerConfigInput, PlannedDevice, SimulationPlan } from './config.js';
export { AnalyzerDevice, registerImage } from './device.js';
export type { DeviceSnapshot } from './device.js';
export { REGISTER_MAP_BEGIN, REGISTER_MAP_END, renderRegisterMap } from './docs.js';
export { MODBUS_EXCEPTIONS, answerRequest, handlePdu } from './modbus.js';
export type { Answer, ModbusSlave, WriteOutcome } from './modbus.js';
export { ANALYZER_STATUSES, LETTER_ORDERS, RANGE_UPPER_PARAMETER, letterOrderFix, profileSchema } from './profile.js';
export type { AnalyzerProfile, AnalyzerProfileInput, AnalyzerStatus, ProfileRegister } from './profile.js';
export { BUILTIN_PROFILES } from './profiles.js';
export { RtuRequestFramer, rtuReply, silentIntervalMs } from './rtu.js';
export type { RtuOptions } from './rtu.js';
export { parseScenarioYaml, scenarioSchema } from './scenario.js';
export type { AnalyzerScenario, AnalyzerScenarioInput, ScenarioEvent } from './scenario.js';
export { commsAt, lastCalibrationAt, readingAt, resolveSignal, totalBetween } from './signal.js';
export type { Comms, Reading, Signal } from './signal.js';
export { startAnalyzerSimulator } from './simulator.js';
export type { AnalyzerSimulatorOptions, RunningAnalyzerSimulator } from './simulator.js';
export type { TcpOptions } from './tcp.js';
export { AnalyzerConfigError, parseWith } from './validation.js';
