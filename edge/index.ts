/** The edge agent (`hj212 edge`): analyzers in over Modbus, HJ 212 data sets out, nothing lost. */
export * from './config.js';
export * from './registers.js';
export * from './modbus.js';
export * from './datasets.js';
export * from './aggregator.js';
export * from './packets.js';
export * from './store.js';
export * from './commands.js';
export * from './history.js';
export * from './sender.js';
export * from './link.js';
export * from './uplink-tcp.js';
export * from './facilities.js';
export * from './agent.js';
export * from './uplink-mqtt.js';
export * from './health.js';
export * from './unsaved.js';
