import { describe, expect, it } from 'vitest';
import { DEFAULT_PASSWORD, downTopic, mnOfUpTopic, UP_FILTER, upTopic } from '../protocol/wire.js';

const MN = '010000A8900016F000169DC0';

describe('the wire contract between edge and cloud', () => {
  it('names the up and down topics of a station', () => {
    expect(upTopic(MN)).toBe('hj212/010000A8900016F000169DC0/up');
    expect(downTopic(MN)).toBe('hj212/010000A8900016F000169DC0/down');
    expect(UP_FILTER).toBe('hj212/+/up');
  });

  it('reads the MN back from an up topic only', () => {
    expect(mnOfUpTopic('hj212/010000A8900016F000169DC0/up')).toBe(MN);
    expect(mnOfUpTopic('hj212/010000A8900016F000169DC0/down')).toBeUndefined();
    expect(mnOfUpTopic('hj212/010000A8900016F000169DC0/up/more')).toBeUndefined();
    expect(mnOfUpTopic('hj212//up')).toBeUndefined();
    expect(mnOfUpTopic('other/010000A8900016F000169DC0/up')).toBeUndefined();
  });

  it('knows the password loggers ship with', () => {
    expect(DEFAULT_PASSWORD).toBe('123456');
  });
});
