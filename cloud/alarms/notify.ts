import type { Logger } from 'pino';
import type { Alarm } from './store.js';
import type { WebhookOutbox } from './webhooks.js';

export type AlarmEvent = 'opened' | 'closed';
export type Notify = (event: AlarmEvent, alarm: Alarm) => void;

/**
 * Names one event of one episode the same on every ingest process and across restarts, unlike the
 * alarm's row id, which is local to a state database.
 */
export const eventKey = (event: AlarmEvent, a: Alarm): string =>
  [a.mn, a.type, a.factor ?? '', a.kind ?? '', a.openedAt, event].join('/');

/** An event as webhooks and the alarm topic carry it: its key and the JSON body. */
export function eventMessage(event: AlarmEvent, alarm: Alarm): { key: string; body: string } {
  const key = eventKey(event, alarm);
  return { key, body: JSON.stringify({ event, key, alarm }) };
}

/**
 * Pushes alarm events to webhooks (POST JSON, queued until taken: see WebhookOutbox) and to an MQTT
 * topic per station (QoS 1 to the broker; a failure is logged with the reason).
 */
export function makeNotifier(opts: {
  webhooks?: WebhookOutbox;
  publish?: (topic: string, payload: string) => Promise<void>;
  topic: string;
  log: Logger;
}): Notify {
  return (event, alarm) => {
    const { key, body } = eventMessage(event, alarm);
    opts.webhooks?.enqueue(key, alarm.mn, body);
    opts
      .publish?.(`${opts.topic}/${alarm.mn}`, body)
      .catch((e: Error) => opts.log.warn({ mn: alarm.mn, reason: e.message }, 'alarm MQTT publish failed'));
  };
}
