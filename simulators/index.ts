export * as analyzer from './analyzer/index.js';
