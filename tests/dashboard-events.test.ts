import { describe, expect, it } from 'vitest';
import { alarmEvents } from '../cloud/api/alarm-events.js';
import type { Alarm } from '../cloud/alarms/store.js';

const H = 3_600_000;
const T0 = Date.parse('2026-11-20T00:00:00+08:00');
const A = 'MN-A';
const B = 'MN-B';
const miss = (id: number, mn: string, factor: string, hour: number, closed?: Partial<Alarm>): Alarm => ({
  id,
  type: 'missing-hour',
  mn,
  factor,
  kind: 'hour',
  openedAt: T0 + hour * H,
  raisedAt: T0 + (hour + 1.5) * H,
  ...closed,
});

describe('alarm events', () => {
  // Station A misses hour 1 (COD and pH, both back-filled, pH later) and hour 2 (COD, still open);
  // station B misses hour 1 (COD, entered by hand); A exceeds at hour 3.
  const episodes: Alarm[] = [
    miss(1, A, 'w01018', 1, { closedAt: T0 + 5 * H, closedBy: 'backfill' }),
    miss(2, A, 'w01001', 1, { closedAt: T0 + 6 * H, closedBy: 'backfill' }),
    miss(3, B, 'w01018', 1, { closedAt: T0 + 4 * H, closedBy: 'manual' }),
    miss(4, A, 'w01018', 2),
    { id: 5, type: 'exceedance', mn: A, factor: 'w01018', kind: 'hour', openedAt: T0 + 3 * H, value: 60, limit: 50 },
  ];
  const acks = (ids: number[]) =>
    new Map(ids.filter((i) => i === 1).map((i) => [i, { by: 'ops', at: 9, comment: 'ok' }]));
  const trails = (ids: number[]) =>
    new Map(
      ids.filter((i) => i === 5).map((i) => [i, [{ by: 'ops', at: 8, state: 'notified' as const, comment: 'c' }]]),
    );

  it('makes one event per station and hour of a missing hour, newest first, with its factors', () => {
    const events = alarmEvents(episodes, acks, trails);
    expect(events.map((e) => [e.id, e.type, e.mn, e.openedAt, e.factors.map((f) => f.factor)])).toEqual([
      [5, 'exceedance', A, T0 + 3 * H, ['w01018']],
      [4, 'missing-hour', A, T0 + 2 * H, ['w01018']],
      // Same opening hour: the later id first.
      [3, 'missing-hour', B, T0 + H, ['w01018']],
      [1, 'missing-hour', A, T0 + H, ['w01018', 'w01001']],
    ]);
    const [, open, manual, backfilled] = events;
    expect(open!.closedAt).toBeUndefined();
    expect(manual).toMatchObject({ closedAt: T0 + 4 * H, closedBy: 'manual' });
    // Closed when its last factor closed (06:00), back-filled because both were.
    expect(backfilled).toMatchObject({ closedAt: T0 + 6 * H, closedBy: 'backfill', raisedAt: T0 + 2.5 * H });
    expect(backfilled!.factors).toEqual([
      { factor: 'w01018', alarmId: 1, closedAt: T0 + 5 * H, closedBy: 'backfill' },
      { factor: 'w01001', alarmId: 2, closedAt: T0 + 6 * H, closedBy: 'backfill' },
    ]);
    expect(backfilled!.ack).toEqual({ by: 'ops', at: 9, comment: 'ok' });
    expect(events[0]!.followUps).toEqual([{ by: 'ops', at: 8, state: 'notified', comment: 'c' }]);
    expect(events[1]!.ack).toBeNull();
  });

  it('judges the state per event: open while any factor is, with no single closedBy when closed two ways', () => {
    const mixed = [miss(1, A, 'w01018', 1, { closedAt: T0 + 5 * H, closedBy: 'backfill' }), miss(2, A, 'w01001', 1)];
    const none = () => new Map();
    expect(alarmEvents(mixed, none, none, 'open').map((e) => e.id)).toEqual([1]);
    expect(alarmEvents(mixed, none, none, 'closed')).toEqual([]);
    const closed = alarmEvents(
      [mixed[0]!, { ...mixed[1]!, closedAt: T0 + 7 * H, closedBy: 'manual' }],
      none,
      none,
      'closed',
    );
    expect(closed.map((e) => [e.id, e.closedAt, e.closedBy])).toEqual([[1, T0 + 7 * H, undefined]]);
  });
});
