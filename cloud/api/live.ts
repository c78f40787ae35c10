import type { Alarm } from '../alarms/store.js';
import type { Station } from '../registry.js';
import type { SupervisionState } from '../supervision.js';
import { judgeAll, type Judgement } from '../rules/judge.js';
import { headlineValue, type Point } from '../store/types.js';
import { LatestValues } from './live-latest.js';

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
  private readonly latest = new Map<string, LatestValues>();
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
      const byFactor = this.latest.get(mn) ?? new LatestValues();
      this.latest.set(mn, byFactor);
      for (const [factor, l] of Object.entries(values))
        if ((byFactor.timeOf(factor) ?? -Infinity) <= l.time) byFactor.set(factor, l);
    }
    for (const send of this.streams) send(message.event);
  }

  stored(station: Pick<Station, 'mn' | 'type' | 'o2Ref' | 'factors'>, points: readonly Point[]): void {
    const mn = station.mn;
    const byFactor = this.latest.get(mn) ?? new LatestValues(Object.keys(station.factors).length);
    this.latest.set(mn, byFactor);
    if (points.length === 0) return;
    const judged = judgeAll(station, points);
    // What the other processes are told: only built where there are others (a cluster's relay).
    const changed: Record<string, Latest> | undefined = this.relay ? {} : undefined;
    // Index loops, not entries() and a spread of a mapped array: every stored upload passes here.
    let time = -Infinity;
    for (let i = 0; i < points.length; i++) {
      const p = points[i]!;
      if (p.time > time) time = p.time;
      const before = byFactor.timeOf(p.factor);
      // A 2061 backfill of an old hour must not hide the real-time value that came before it.
      if (before !== undefined && before > p.time) continue;
      // Short-lived: LatestValues copies its fields into its arrays.
      const l: Latest = { kind: p.kind, time: p.time };
      const value = headlineValue(p);
      if (value !== undefined) l.value = value;
      if (p.flag !== undefined) l.flag = p.flag;
      const j = judged[i];
      if (j) {
        l.judged = j.value;
        l.state = j.state;
      }
      byFactor.set(p.factor, l);
      if (changed) changed[p.factor] = l;
    }
    const event: LiveEvent = { type: 'data', mn, time };
    for (const send of this.streams) send(event);
    this.relay?.send({ event, latest: { mn, values: changed! } });
  }

  values(mn: string): Record<string, Latest> {
    // Fresh objects: LatestValues holds the values in arrays, not as the objects handed out.
    return Object.fromEntries(this.latest.get(mn)?.entries() ?? []);
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
