export * as analyzer from './analyzer/index.js';
export * as logger from './logger/index.js';
export * as platform from './platform/index.js';
