import { switchKey } from '../../protocol/index.js';
import type { KeyState } from '../../protocol/index.js';
import type { SettingEffect } from '../commands.js';
import type { EdgeConfig, UplinkConfig } from '../config.js';
import type { EdgeSettings } from '../store/index.js';

/**
 * What one uplink's commands have set: its password (1072), what it sends (2011/2012, 2021/2022) and,
 * on an HJ 212-2025 link, its SM4 keys (1014).
 */
export interface UplinkSettings {
  readonly pw: string;
  readonly realtime: boolean;
  readonly runState: boolean;
  readonly keys?: KeyState;
  /** Set by a platform's 1002 (HJ 212-2025); unset, the uplink's configured MN or the station's. */
  readonly mn?: string;
}

/** Everything a platform's commands change, in one record: the state of `reduceEffect`. */
export interface AgentSettings {
  /** How far 1012 has moved station time from the box clock. */
  readonly clockOffsetMs: number;
  readonly rtdIntervalSeconds: number;
  readonly minIntervalMinutes: number;
  /** 1000 (C.1): one answer timeout and resend count for every uplink; unset, each keeps its config's. */
  readonly timeoutRetry?: { readonly overTimeSeconds: number; readonly reCount: number };
  readonly uplinks: Readonly<Record<string, UplinkSettings>>;
}

/**
 * An uplink's settings before any command: a password or SM4 key a platform set outlives a restart,
 * the switches do not. A configured key's age (for keyRotationDays) counts from `now`, the agent's start.
 */
export function uplinkSettings(
  u: Pick<UplinkConfig, 'id' | 'pw' | 'realtime' | 'runState' | 'version' | 'sm4Key'>,
  saved: Pick<EdgeSettings, 'passwords' | 'sm4Keys' | 'mns'>,
  now: number,
): UplinkSettings {
  const mn = saved.mns?.[u.id];
  const own = { pw: saved.passwords[u.id] ?? u.pw, realtime: u.realtime, runState: u.runState, ...(mn && { mn }) };
  if (u.version !== '2025') return own;
  const keys =
    saved.sm4Keys?.[u.id] ?? (u.sm4Key === undefined ? undefined : { key: u.sm4Key.toUpperCase(), since: now });
  return keys ? { ...own, keys } : own;
}

/** The settings at start: what commands persisted (edge/store/settings.ts) over the config. */
export function initialSettings(
  config: Pick<EdgeConfig, 'rtdIntervalSeconds' | 'minIntervalMinutes' | 'uplinks'>,
  saved: EdgeSettings,
  now: number,
): AgentSettings {
  return {
    // A 1012 is not persisted: after a restart the box's own clock (NTP or RTC) is the best there is.
    clockOffsetMs: 0,
    rtdIntervalSeconds: saved.rtdIntervalSeconds ?? config.rtdIntervalSeconds,
    minIntervalMinutes: saved.minIntervalMinutes ?? config.minIntervalMinutes,
    ...(saved.overTimeSeconds !== undefined &&
      saved.reCount !== undefined && {
        timeoutRetry: { overTimeSeconds: saved.overTimeSeconds, reCount: saved.reCount },
      }),
    uplinks: Object.fromEntries(config.uplinks.map((u) => [u.id, uplinkSettings(u, saved, now)])),
  };
}

/** Where and when an effect came: the uplink that received the command, station time then. */
export interface EffectSource {
  uplink: string;
  now: number;
  /** How long a key a 1014 replaced is still decoded: the uplink's keyGraceSeconds, in ms. */
  keyGraceMs?: number;
}

/**
 * The one home of what a command changes: the settings after `effect`. Pure; the agent persists and
 * applies the result (edge/agent/index.ts).
 */
export function reduceEffect(state: AgentSettings, effect: SettingEffect, at: EffectSource): AgentSettings {
  const own = (patch: Partial<UplinkSettings>): AgentSettings => {
    const current = state.uplinks[at.uplink];
    // An uplink the agent does not know (none sends without one) changes nothing.
    return current ? { ...state, uplinks: { ...state.uplinks, [at.uplink]: { ...current, ...patch } } } : state;
  };
  switch (effect.kind) {
    case 'set-time':
      // C.3 sets the clock to SystemTime: the offset moves by the difference from station time now.
      return { ...state, clockOffsetMs: state.clockOffsetMs + (effect.at - at.now) };
    case 'clock-kept':
      return state;
    case 'set-timeout-retry':
      return { ...state, timeoutRetry: { overTimeSeconds: effect.overTimeSeconds, reCount: effect.reCount } };
    case 'set-rtd-interval':
      return { ...state, rtdIntervalSeconds: effect.seconds };
    case 'set-min-interval':
      return { ...state, minIntervalMinutes: effect.minutes };
    case 'set-password':
      return own({ pw: effect.pw });
    case 'set-mn':
      return own({ mn: effect.mn });
    case 'set-key':
      return own({ keys: switchKey(state.uplinks[at.uplink]?.keys, effect.key, at.now, at.keyGraceMs ?? 0) });
    case 'realtime':
      return own({ realtime: effect.on });
    case 'run-state':
      return own({ runState: effect.on });
  }
}
