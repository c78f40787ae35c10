import type { Alarm } from '../alarms/store.js';
import type { Ack, FollowUp } from './acks.js';

/** One factor of an alarm event: the episode that tracks it and how it ended. */
export interface EventFactor {
  factor: string;
  alarmId: number;
  closedAt?: number;
  closedBy?: Alarm['closedBy'];
}

/**
 * An alarm as an operator handles it: one row per event. The rules keep a missing hour as one episode
 * per factor (each closes when its own record arrives: a re-sent hour may carry only some factors,
 * another may be entered by hand), but for the centre it is one event: the station did not report that hour. So the
 * episodes of one station and hour are one event listing its factors; every other alarm is its own event.
 * An event is known by its first episode's id: its acknowledgement and follow-up trail are kept against it.
 */
export interface AlarmEvent extends Omit<Alarm, 'factor' | 'closedAt' | 'closedBy'> {
  factors: EventFactor[];
  /** When the last of its factors closed; absent while any is open. */
  closedAt?: number;
  /** How it closed, when all its factors closed the same way (补传 or 手工补录). */
  closedBy?: Alarm['closedBy'];
  ack: Ack | null;
  followUps: FollowUp[];
}

const groupKey = (a: Alarm): string =>
  a.type === 'missing-hour' ? `missing-hour\0${a.mn}\0${a.kind ?? ''}\0${a.openedAt}` : `id\0${a.id}`;

/** Groups episodes into events, newest first; `state` is then judged per event (open while any factor is). */
export function alarmEvents(
  alarms: readonly Alarm[],
  acks: (ids: number[]) => Map<number, Ack>,
  followUps: (ids: number[]) => Map<number, FollowUp[]>,
  state?: 'open' | 'closed',
): AlarmEvent[] {
  const groups = new Map<string, Alarm[]>();
  for (const a of [...alarms].sort((x, y) => x.id - y.id)) {
    const k = groupKey(a);
    groups.set(k, [...(groups.get(k) ?? []), a]);
  }
  const events = [...groups.values()].map((episodes): Omit<AlarmEvent, 'ack' | 'followUps'> => {
    const { factor: _f, closedAt: _c, closedBy: _b, ...first } = episodes[0]!;
    const factors = episodes
      .filter((a) => a.factor !== undefined)
      .map((a) => ({
        factor: a.factor!,
        alarmId: a.id,
        ...(a.closedAt !== undefined && { closedAt: a.closedAt }),
        ...(a.closedBy !== undefined && { closedBy: a.closedBy }),
      }));
    const raised = episodes.map((a) => a.raisedAt).filter((t) => t !== undefined);
    const e: Omit<AlarmEvent, 'ack' | 'followUps'> = { ...first, factors };
    if (raised.length) e.raisedAt = Math.min(...raised);
    if (episodes.every((a) => a.closedAt !== undefined)) {
      e.closedAt = Math.max(...episodes.map((a) => a.closedAt!));
      const by = new Set(episodes.map((a) => a.closedBy));
      const [only] = by;
      if (by.size === 1 && only !== undefined) e.closedBy = only;
    }
    return e;
  });
  const shown = events
    .filter((e) => state === undefined || (state === 'open') === (e.closedAt === undefined))
    .sort((x, y) => y.openedAt - x.openedAt || y.id - x.id);
  const ids = shown.map((e) => e.id);
  const given = acks(ids);
  const trails = followUps(ids);
  return shown.map((e) => ({ ...e, ack: given.get(e.id) ?? null, followUps: trails.get(e.id) ?? [] }));
}
