import type { Alarm } from '../alarms/store.js';
import type { Station } from '../registry.js';
import type { SupervisionState } from '../supervision.js';
import { judgeAll, type Judgement } from '../rules/judge.js';
import { headlineValue, type Point } from '../store/types.js';

/** The newest value of one factor, whatever kind of record brought it. */
export interface Latest {
  kind: Point['kind'];
  time: number;
  value?: number;
  flag?: string;
  /** The judged value (converted for gas) and its state, as the alarms see it; absent where nothing is judged. */
  judged?: number;
  state?: Judgement['state'];
}

/** What the dashboard is told about as it happens; it re-reads what it shows on each event. */
export type LiveEvent =
  | { type: 'data'; mn: string; time: number }
  | { type: 'alarm'; event: 'opened' | 'closed' | 'acknowledged' | 'followed-up'; alarm: Alarm }
  /** A logger answered a request of the API (9011, 9012, its data): GET /stations/{mn}/commands changed. */
  | { type: 'command'; mn: string }
  /** A supervision item (督办) of the station was sent, answered, returned or accepted: GET /supervision changed. */
  | { type: 'supervision'; mn: string; id: number; state: SupervisionState };

type Send = (event: LiveEvent) => void;

/** What one process of a cluster tells the others' live views: an event, and the newest values it brought. */
export interface LiveMessage {
  event: LiveEvent;
  latest?: { mn: string; values: Record<string, Latest> };
}

/** Carries live messages between the processes of a cluster (cloud/state/pg-live.ts). */
export interface LiveRelay {
  send(message: LiveMessage): void;
}

/** Newest values per station and factor, and the open event streams they are pushed to. */
export class LiveHub {
  private readonly latest = new Map<string, Map<string, Latest>>();
  private readonly streams = new Set<Send>();
  private relay: LiveRelay | undefined;

  /** From now on every event and newest value of this process also goes to the others. */
  relayTo(relay: LiveRelay): void {
    this.relay = relay;
  }

  /** Another process's message: its newest values where newer than ours, its event to our streams. */
  receive(message: LiveMessage): void {
    if (message.latest) {
      const { mn, values } = message.latest;
      const byFactor = this.latest.get(mn) ?? new Map<string, Latest>();
      this.latest.set(mn, byFactor);
      for (const [factor, l] of Object.entries(values))
        if ((byFactor.get(factor)?.time ?? -Infinity) <= l.time) byFactor.set(factor, l);
    }
    for (const send of this.streams) send(message.event);
  }

  stored(station: Pick<Station, 'mn' | 'type' | 'o2Ref' | 'factors'>, points: readonly Point[]): void {
    const mn = station.mn;
    let byFactor = this.latest.get(mn);
    if (!byFactor) this.latest.set(mn, (byFactor = new Map<string, Latest>()));
    if (points.length === 0) return;
    const judged = judgeAll(station, points);
    // What the other processes are told: only built where there are others (a cluster's relay).
    const changed: Record<string, Latest> | undefined = this.relay ? {} : undefined;
    // Index loops, not entries() and a spread of a mapped array: every stored upload passes here.
    let time = -Infinity;
    for (let i = 0; i < points.length; i++) {
      const p = points[i]!;
      if (p.time > time) time = p.time;
      const before = byFactor.get(p.factor);
      // A 2061 backfill of an old hour must not hide the real-time value that came before it.
      if (before && before.time > p.time) continue;
      const value = headlineValue(p);
      const j = judged[i];
      let l: Latest;
      if (before && sameFields(before, value, p.flag, j)) {
        // Updated in place where it has the same fields (nearly always): one replaced per value of every upload
        // outlives the young generation and leaves the old one to collect. Readers get copies (values()).
        l = before;
        l.kind = p.kind;
        l.time = p.time;
        if (value !== undefined) l.value = value;
        if (p.flag !== undefined) l.flag = p.flag;
        if (j) {
          l.judged = j.value;
          l.state = j.state;
        }
      } else {
        l = { kind: p.kind, time: p.time };
        if (value !== undefined) l.value = value;
        if (p.flag !== undefined) l.flag = p.flag;
        if (j) {
          l.judged = j.value;
          l.state = j.state;
        }
        byFactor.set(p.factor, l);
      }
      if (changed) changed[p.factor] = l;
    }
    const event: LiveEvent = { type: 'data', mn, time };
    for (const send of this.streams) send(event);
    this.relay?.send({ event, latest: { mn, values: changed! } });
  }

  values(mn: string): Record<string, Latest> {
    // Copies: the held values change in place as data comes (see stored).
    const out: Record<string, Latest> = {};
    for (const [factor, l] of this.latest.get(mn) ?? []) out[factor] = { ...l };
    return out;
  }

  publish(event: LiveEvent): void {
    for (const send of this.streams) send(event);
    this.relay?.send({ event });
  }

  subscribe(send: Send): () => void {
    this.streams.add(send);
    return () => this.streams.delete(send);
  }
}

/** Whether a held value has the optional fields a new one brings, and no others (so it can be updated in place). */
const sameFields = (
  l: Latest,
  value: number | undefined,
  flag: string | undefined,
  j: Judgement | undefined,
): boolean =>
  'value' in l === (value !== undefined) && 'flag' in l === (flag !== undefined) && 'judged' in l === (j !== undefined);
