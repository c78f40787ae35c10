import { describe, expect, it } from 'vitest';
import { initialSettings, reduceEffect } from '../edge/agent/effects.js';
import type { AgentSettings } from '../edge/agent/effects.js';

const T0 = Date.parse('2025-06-01T10:00:00+08:00');

/** Two uplinks, one sending real-time data and run states, the other neither; the 1012 moved the clock 5 s. */
const state: AgentSettings = {
  clockOffsetMs: 5_000,
  rtdIntervalSeconds: 30,
  minIntervalMinutes: 10,
  uplinks: {
    province: { pw: 'a1B2c3', realtime: true, runState: true },
    city: { pw: '123456', realtime: false, runState: false },
  },
};
const from = (uplink: string) => ({ uplink, now: T0 });

describe('the command effect reducer (edge/agent/effects.ts)', () => {
  it('1012 moves the offset by SystemTime minus station time, adding to the offset already set', () => {
    // Station time T0 (offset included); the platform says T0 + 90 s: 5 s + 90 s.
    expect(reduceEffect(state, { kind: 'set-time', at: T0 + 90_000 }, from('province')).clockOffsetMs).toBe(95_000);
    // A platform behind the box: T0 - 2 s takes 2 s off, 3 s left.
    expect(reduceEffect(state, { kind: 'set-time', at: T0 - 2_000 }, from('city')).clockOffsetMs).toBe(3_000);
  });

  it('1012 under keep-ntp changes nothing', () => {
    expect(reduceEffect(state, { kind: 'clock-kept', differenceMs: 90_000 }, from('province'))).toBe(state);
  });

  it('1000 sets one timeout and resend count for the box, 1062/1064 the intervals', () => {
    const next = reduceEffect(state, { kind: 'set-timeout-retry', overTimeSeconds: 20, reCount: 2 }, from('city'));
    expect(next.timeoutRetry).toEqual({ overTimeSeconds: 20, reCount: 2 });
    expect(next.uplinks).toBe(state.uplinks);
    expect(reduceEffect(state, { kind: 'set-rtd-interval', seconds: 60 }, from('city'))).toEqual({
      ...state,
      rtdIntervalSeconds: 60,
    });
    expect(reduceEffect(state, { kind: 'set-min-interval', minutes: 5 }, from('city'))).toEqual({
      ...state,
      minIntervalMinutes: 5,
    });
  });

  it('1072, 2011/2012 and 2021/2022 change only the uplink that received them', () => {
    const pw = reduceEffect(state, { kind: 'set-password', pw: 'Zx9' }, from('city'));
    expect(pw.uplinks).toEqual({
      province: { pw: 'a1B2c3', realtime: true, runState: true },
      city: { pw: 'Zx9', realtime: false, runState: false },
    });
    const off = reduceEffect(state, { kind: 'realtime', on: false }, from('province'));
    expect(off.uplinks['province']).toEqual({ pw: 'a1B2c3', realtime: false, runState: true });
    expect(off.uplinks['city']).toBe(state.uplinks['city']);
    const on = reduceEffect(state, { kind: 'run-state', on: true }, from('city'));
    expect(on.uplinks['city']).toEqual({ pw: '123456', realtime: false, runState: true });
    // An uplink the agent does not have changes nothing.
    expect(reduceEffect(state, { kind: 'set-password', pw: 'Zx9' }, from('nowhere'))).toBe(state);
  });

  it('is pure: the state it is given is left as it was', () => {
    const before = structuredClone(state);
    reduceEffect(state, { kind: 'set-password', pw: 'Zx9' }, from('province'));
    reduceEffect(state, { kind: 'set-time', at: T0 }, from('province'));
    expect(state).toEqual(before);
  });

  it('starts from what commands persisted over the config; a 1012 does not outlive a restart', () => {
    const config = {
      rtdIntervalSeconds: 30,
      minIntervalMinutes: 10,
      uplinks: [
        { id: 'province', pw: 'a1B2c3', realtime: true, runState: false },
        { id: 'city', pw: '123456', realtime: false, runState: true },
      ],
    } as Parameters<typeof initialSettings>[0];
    expect(
      initialSettings(
        config,
        { rtdIntervalSeconds: 60, overTimeSeconds: 15, reCount: 1, passwords: { city: 'Zx9' } },
        T0,
      ),
    ).toEqual({
      clockOffsetMs: 0,
      rtdIntervalSeconds: 60,
      minIntervalMinutes: 10,
      timeoutRetry: { overTimeSeconds: 15, reCount: 1 },
      uplinks: {
        province: { pw: 'a1B2c3', realtime: true, runState: false },
        city: { pw: 'Zx9', realtime: false, runState: true },
      },
    });
    // One of OverTime and ReCount alone is no 1000: the config's stay.
    expect(initialSettings(config, { overTimeSeconds: 15, passwords: {} }, T0).timeoutRetry).toBeUndefined();
  });

  it('1014 switches the SM4 key of the uplink and keeps the one replaced for decode during the grace', () => {
    const K1 = '00112233445566778899AABBCCDDEEFF';
    const keyed: AgentSettings = {
      ...state,
      uplinks: {
        ...state.uplinks,
        province: { ...state.uplinks['province']!, keys: { key: K1, since: T0 - 86_400_000 } },
      },
    };
    const next = reduceEffect(
      keyed,
      { kind: 'set-key', key: '0123456789abcdef0123456789abcdef' },
      { uplink: 'province', now: T0, keyGraceMs: 600_000 },
    );
    expect(next.uplinks['province']!.keys).toEqual({
      key: '0123456789ABCDEF0123456789ABCDEF',
      since: T0,
      previous: K1,
      previousUntil: T0 + 600_000,
    });
    expect(next.uplinks['city']).toBe(keyed.uplinks['city']);
  });

  it('a 2025 uplink starts with the key a 1014 stored, else the configured one aged from the start', () => {
    const config = {
      rtdIntervalSeconds: 30,
      minIntervalMinutes: 10,
      uplinks: [
        {
          id: 'a',
          pw: 'p',
          realtime: true,
          runState: false,
          version: '2025',
          sm4Key: 'aabbccddeeff00112233445566778899',
        },
        {
          id: 'b',
          pw: 'p',
          realtime: true,
          runState: false,
          version: '2025',
          sm4Key: 'aabbccddeeff00112233445566778899',
        },
        {
          id: 'c',
          pw: 'p',
          realtime: true,
          runState: false,
          version: '2017',
          sm4Key: 'aabbccddeeff00112233445566778899',
        },
      ],
    } as Parameters<typeof initialSettings>[0];
    const stored = { key: '0123456789ABCDEF0123456789ABCDEF', since: T0 - 1_000 };
    const { uplinks } = initialSettings(config, { passwords: {}, sm4Keys: { a: stored } }, T0);
    expect(uplinks['a']!.keys).toEqual(stored);
    expect(uplinks['b']!.keys).toEqual({ key: 'AABBCCDDEEFF00112233445566778899', since: T0 });
    // Before HJ 212-2025 a link has no SM4 keys.
    expect(uplinks['c']!.keys).toBeUndefined();
  });
});
