/**
 * The edge agent (`hj212 edge`): analyzers in over Modbus, HJ 212 data sets out, nothing lost.
 * This is the agent's public API: its config, starting it, its health. The stages (registers,
 * statistics, store, uplinks) are imported from their module files by our own parts.
 */
export {
  EdgeConfigError,
  parseEdgeConfig,
  parseEdgeConfigYaml,
  loadEdgeConfig,
  edgeConfigJsonSchema,
  type EdgeConfig,
  type EdgeConfigInput,
  type DeviceConfig,
  type BusConfig,
  type FacilityConfig,
  type UplinkConfig,
} from './config.js';
export { configWarnings } from './config-check.js';
export {
  startAgent,
  type AgentOptions,
  type AgentHealth,
  type DeviceStatus,
  type RunningAgent,
} from './agent/index.js';
export { healthy } from './health.js';
