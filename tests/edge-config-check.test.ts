import { describe, expect, it } from 'vitest';
import { parseEdgeConfig } from '../edge/index.js';
import { minimalConfig } from './helpers/edge-config.js';

describe('edge configuration defaults an integrator relies on', () => {
  it('puts the health endpoint on 8213, clear of the cloud API on 8212', () => {
    const config = minimalConfig();
    config.health = {} as never;
    expect(parseEdgeConfig(config).health).toEqual({ host: '127.0.0.1', port: 8213 });
  });
});
