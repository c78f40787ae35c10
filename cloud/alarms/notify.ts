import type { Logger } from 'pino';
import type { Alarm } from './store.js';

export type AlarmEvent = 'opened' | 'closed';
export type Notify = (event: AlarmEvent, alarm: Alarm) => void;

/**
 * Pushes alarm events to webhooks (POST JSON) and to an MQTT topic per station. Delivery is best
 * effort: a failure is logged with the reason, and the alarm stays listed by the API either way.
 */
export function makeNotifier(opts: { webhooks: readonly string[]; publish?: (topic: string, payload: string) => Promise<void>; topic: string; log: Logger; timeoutMs?: number }): Notify {
  return (event, alarm) => {
    const body = JSON.stringify({ event, alarm });
    for (const url of opts.webhooks) {
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(opts.timeoutMs ?? 5000) }).then(
        (res) => {
          if (!res.ok) opts.log.warn({ mn: alarm.mn, url, reason: `HTTP ${res.status}` }, 'alarm webhook refused');
          return res.arrayBuffer();
        },
        (e: Error) => opts.log.warn({ mn: alarm.mn, url, reason: e.message }, 'alarm webhook failed'),
      );
    }
    opts.publish?.(`${opts.topic}/${alarm.mn}`, body).catch((e: Error) => opts.log.warn({ mn: alarm.mn, reason: e.message }, 'alarm MQTT publish failed'));
  };
}
