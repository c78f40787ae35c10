import type { Proc } from './common.js';

// Ports, processes, mosquitto and influxd live in the shared helper; re-exported for the tests that import them here.
export { freePort, launch, startInfluxd, startMosquitto, type Proc } from './common.js';

/** InfluxQL over HTTP as one user, against one database unless the statement names its own. */
export type InfluxQuery = (statement: string, db?: string) => Promise<unknown>;

/** InfluxQL over HTTP as `user`; times as RFC 3339 strings, or epoch milliseconds with `epoch: 'ms'`. */
export function influxQL(
  influx: Pick<Proc, 'port'>,
  user: { name: string; password: string },
  epoch?: 'ms',
): InfluxQuery {
  return async (statement, db) => {
    const url = new URL('/query', `http://127.0.0.1:${influx.port}`);
    url.search = new URLSearchParams({
      q: statement,
      u: user.name,
      p: user.password,
      ...(epoch !== undefined && { epoch }),
      ...(db !== undefined && { db }),
    }).toString();
    const res = await fetch(url, { method: 'POST' });
    if (!res.ok) throw new Error(`InfluxDB ${res.status}: ${await res.text()}`);
    return res.json();
  };
}

/**
 * Makes the admin user of a fresh influxd (with auth on and no users yet, InfluxDB 1.x lets exactly
 * that first statement through) and returns InfluxQL as that user.
 */
export async function influxAdmin(
  influx: Pick<Proc, 'port'>,
  user: { name: string; password: string },
  epoch?: 'ms',
): Promise<InfluxQuery> {
  const query = influxQL(influx, user, epoch);
  await query(`CREATE USER ${user.name} WITH PASSWORD '${user.password}' WITH ALL PRIVILEGES`);
  return query;
}

/** The admin user of a fresh influxd and a database; InfluxQL as that user, times in epoch ms. */
export async function influxDatabase(
  influx: Pick<Proc, 'port'>,
  user: { name: string; password: string },
  database: string,
): Promise<InfluxQuery> {
  const query = await influxAdmin(influx, user, 'ms');
  await query(`CREATE DATABASE ${database}`);
  return query;
}
