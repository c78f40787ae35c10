export { durationMs, durationMsSchema } from '../shared/duration.js';
export { validateConfig, readYaml, withFlags, ConfigError } from './config.js';
export { Sm4KeySchema, sm4KeyLookup } from './keys.js';
export { DEFAULT_PASSWORD } from '../../protocol/wire.js';
export { answeredQn, FrameLink, makeLog } from './link.js';
export { mulberry32, hashSeed } from './prng.js';
export { warpedClock, type SimClock } from '../shared/clock.js';
