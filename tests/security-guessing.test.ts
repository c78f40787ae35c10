import { once } from 'node:events';
import { connectAsync } from 'mqtt';
import { upTopic } from '../cloud/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../cloud/clock.js';
import { Limiter } from '../cloud/guessing.js';
import {
  GAS_MN,
  GAS_PW,
  rawClient,
  startTestCloud,
  testHash,
  testStations,
  WATER_MN,
  WATER_PW,
  type TestCloud,
} from './helpers/cloud-fixtures.js';
import { startDeployedMosquitto } from './helpers/fault-mosquitto.js';
import { hourFrame, mqttDevice, refusals, storedHours } from './helpers/security.js';
import { untilValue } from './helpers/common.js';

// Attack 2: password guessing was free (every guess answered, ~50 ms of scrypt each, never closed).
// Now: a few free failures, then each answer waits twice as long, then the MN and the address are
// locked out — refused without a check, the connection closed, a "password-guessing" alarm open —
// while the device under attack, already verified from its own address, keeps delivering.

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** The system clocks, with the monotonic one able to jump ahead (to let a lockout run out without waiting). */
function skippingClock(): Clock & { skip(ms: number): void } {
  let ahead = 0;
  return { wall: systemClock.wall, mono: () => systemClock.mono() + ahead, skip: (ms) => (ahead += ms) };
}

// 3 free failures, then 20, 40, 80 ms; the 5th failure locks out for 600 s.
const AUTH = { freeFailures: 3, delayMs: 20, maxDelayMs: 80, lockoutFailures: 5, lockoutSeconds: 600 };

describe('password guessing over raw TCP', () => {
  it(
    'refuses what a locked-out guesser still queued unchecked, so a ' +
      'lockout that runs out meanwhile starts no new one',
    async () => {
      const clock = skippingClock();
      // 20 frames a second per connection: the guesser's 301 frames would take 15 s to drain one by one.
      const c: TestCloud = await startTestCloud(
        { auth: AUTH, tcp: { host: '127.0.0.1', port: 0, rate: 20, burst: 5 } },
        undefined,
        {
          clock,
        },
      );
      cleanup.push(() => c.stop());
      const guesser = await rawClient(c.cloud.tcp!.address.port, '127.0.0.2');
      cleanup.push(async () => guesser.close());
      guesser.socket.on('error', () => undefined);
      const closed = once(guesser.socket, 'close');
      guesser.socket.write(
        [
          ...Array.from({ length: 300 }, (_, i) => hourFrame(WATER_MN, `guess${i}`)),
          hourFrame(WATER_MN, WATER_PW),
        ].join(''),
      );
      await closed;
      // The lockout runs out at once: had the queue kept draining, its guesses would be checked again.
      clock.skip(601_000);
      // 5 failures checked, the 6th frame refused locked out and the connection closed, the other 295 refused with it.
      await untilValue(
        () => c.cloud.ingest.stats.rejected['locked-out'] ?? 0,
        (n) => n >= 296,
      );
      expect(c.cloud.ingest.stats.rejected).toEqual({ 'bad-password': 5, 'locked-out': 296 });
      expect(c.lines.filter((l) => l['msg'] === 'login locked out')).toHaveLength(2);
      expect(c.cloud.alarms.list({ type: 'password-guessing', mn: WATER_MN })).toHaveLength(1);
    },
  );

  it(
    'answers the first guesses, locks the MN and the address out at the 5th, closes the guesser, ' +
      'raises the alarm; the device under attack and other devices are stored in full',
    async () => {
      const clock = skippingClock();
      const c: TestCloud = await startTestCloud({ auth: AUTH }, undefined, { clock });
      cleanup.push(() => c.stop());
      const port = c.cloud.tcp!.address.port;

      // The honest device, from 127.0.0.1, logged in before the attack.
      const honest = await rawClient(port);
      cleanup.push(async () => honest.close());
      honest.socket.write(hourFrame(WATER_MN, WATER_PW, { hours: 0 }));
      await honest.received(1);

      // The guesser, from 127.0.0.2: 300 wrong PWs then the right one, on one connection.
      const guesser = await rawClient(port, '127.0.0.2');
      cleanup.push(async () => guesser.close());
      const closed = once(guesser.socket, 'close');
      guesser.socket.on('error', () => undefined);
      guesser.socket.write(
        [
          ...Array.from({ length: 300 }, (_, i) => hourFrame(WATER_MN, `guess${i}`)),
          hourFrame(WATER_MN, WATER_PW),
        ].join(''),
      );
      await closed;
      // Failures 1-5 are checked and answered "wrong PW" (QnRtn 3); the 6th finds the MN locked out: answered alike,
      // then closed.
      expect(guesser.packets.map((p) => [p.cn, p.cp.params['QnRtn']])).toEqual(Array(6).fill(['9011', '3']));
      const fromGuesser = refusals(c).filter((r) => r[2] === '127.0.0.2');
      expect(fromGuesser.slice(0, 6)).toEqual([
        ...Array(5).fill(['bad-password', WATER_MN, '127.0.0.2']),
        ['locked-out', WATER_MN, '127.0.0.2'],
      ]);
      // Both keys went into lockout at the 5th failure, each logged once and raised as an alarm.
      expect(
        c.lines.filter((l) => l['msg'] === 'login locked out').map((l) => [l['reason'], l['key'], l['mn'], l['addr']]),
      ).toEqual([
        ['password-guessing', `pw:${WATER_MN}`, WATER_MN, '127.0.0.2'],
        ['password-guessing', 'addr:127.0.0.2', undefined, '127.0.0.2'],
      ]);
      expect(c.cloud.alarms.list({ type: 'password-guessing' }).map((a) => [a.mn, a.closedAt])).toEqual([
        [WATER_MN, undefined],
        ['addr:127.0.0.2', undefined],
      ]);

      // The locked-out address cannot connect again; another address with the right PW is refused too (not trusted).
      const again = await rawClient(port, '127.0.0.2');
      await once(again.socket, 'close');
      const third = await rawClient(port, '127.0.0.3');
      cleanup.push(async () => third.close());
      third.socket.on('error', () => undefined);
      const thirdClosed = once(third.socket, 'close');
      third.socket.write(hourFrame(WATER_MN, WATER_PW, { hours: 1 }));
      await thirdClosed;
      expect(third.packets.map((p) => [p.cn, p.cp.params['QnRtn']])).toEqual([['9011', '3']]);
      expect(refusals(c).filter((r) => r[0] === 'locked-out' && r[2] !== '127.0.0.2')).toEqual([
        ['locked-out', WATER_MN, '127.0.0.3'],
      ]);
      expect(
        c.lines.some((l) => l['reason'] === 'locked-out' && l['addr'] === '127.0.0.2' && l['mn'] === undefined),
      ).toBe(true);

      // Meanwhile the device under attack keeps delivering, and so does another device.
      honest.socket.write(hourFrame(WATER_MN, WATER_PW, { hours: 2 }));
      const gas = await rawClient(port);
      cleanup.push(async () => gas.close());
      gas.socket.write(hourFrame(GAS_MN, GAS_PW, { hours: 2 }));
      expect((await honest.received(2)).map((p) => p.cn)).toEqual(['9014', '9014']);
      expect((await gas.received(1)).map((p) => p.cn)).toEqual(['9014']);

      // The attack stops; 600 s later (monotonic) the lockout is over: the device from a new address is served.
      clock.skip(601_000);
      const later = await rawClient(port, '127.0.0.3');
      cleanup.push(async () => later.close());
      later.socket.write(hourFrame(WATER_MN, WATER_PW, { hours: 3 }));
      expect((await later.received(1)).map((p) => p.cn)).toEqual(['9014']);
      // Hours 0, 2 and 3 of the water station (the guessed hour 1 was refused), hour 2 of gas.
      expect(await storedHours(c, WATER_MN, 4)).toHaveLength(3);
      expect(await storedHours(c, GAS_MN, 4)).toHaveLength(1);
      // The station logged in again with its right secret: its guessing episode is closed.
      expect(
        c.cloud.alarms.list({ type: 'password-guessing', mn: WATER_MN }).map((a) => a.closedAt !== undefined),
      ).toEqual([true]);
    },
  );
});

describe('password guessing over MQTT CONNECT (embedded broker)', () => {
  it(
    'refuses CONNECTs of a locked-out MN with "not authorized" without a check; the ' +
      'device already verified from its address still logs in',
    async () => {
      const [water, gas] = await testStations();
      const c = await startTestCloud(
        { tcp: undefined, mqtt: { mode: 'embedded', host: '127.0.0.1', port: 0 }, auth: AUTH },
        [water!, { ...gas!, mqttSecretHash: await testHash('gas-secret') }],
      );
      cleanup.push(() => c.stop());
      const url = `mqtt://127.0.0.1:${c.cloud.mqtt!.address!.port}`;
      const login = (secret: string, clientId = `hj212-edge-${WATER_MN}-x`) =>
        connectAsync(url, { username: WATER_MN, password: secret, clientId, reconnectPeriod: 0 });
      const gasLogin = () =>
        connectAsync(url, { username: GAS_MN, password: 'gas-secret', clientId: GAS_MN, reconnectPeriod: 0 });
      // Both devices log in once (verified, from 127.0.0.1), then a guesser on the same host tries 6 secrets.
      await (await login('water-secret')).endAsync();
      await (await gasLogin()).endAsync();
      for (let i = 0; i < 5; i++) await expect(login(`guess${i}`)).rejects.toThrow(/Bad username or password/i);
      await expect(login('guess5')).rejects.toThrow(/Not authorized/i);
      expect(refusals(c)).toEqual([
        ...Array(5).fill(['mqtt-bad-password', WATER_MN, '127.0.0.1']),
        ['mqtt-locked-out', WATER_MN, '127.0.0.1'],
      ]);
      // The devices verified from this address are let in again (their secrets, unchecked, match what was
      // verified); the address is locked out for any other login until the lockout ends.
      const back = await login('water-secret');
      cleanup.push(() => back.endAsync(true));
      const other = await gasLogin();
      cleanup.push(() => other.endAsync(true));
      expect(back.connected && other.connected).toBe(true);
      expect(c.lines.filter((l) => l['msg'] === 'login locked out').map((l) => l['key'])).toEqual([
        `mqtt:${WATER_MN}`,
        'addr:127.0.0.1',
      ]);
    },
  );
});

describe('password guessing over TCP against a station that delivers over MQTT (Mosquitto as shipped)', () => {
  it('the TCP guesser locks the MN out, the edge on the broker keeps delivering', async () => {
    const users = { [WATER_MN]: 'water-mqtt', ingest: 'ingest-secret' };
    const mosq = await startDeployedMosquitto(users);
    cleanup.push(() => mosq.stop());
    const c = await startTestCloud({
      tcp: { host: '127.0.0.1', port: 0 },
      mqtt: {
        mode: 'external',
        url: `mqtt://127.0.0.1:${mosq.ingestPort}`,
        username: 'ingest',
        password: users.ingest,
      },
      auth: AUTH,
    });
    cleanup.push(() => c.stop());
    const edge = await mqttDevice(`mqtt://127.0.0.1:${mosq.port}`, WATER_MN, users[WATER_MN]);
    cleanup.push(() => edge.client.endAsync(true));
    await edge.client.publishAsync(upTopic(WATER_MN), hourFrame(WATER_MN, WATER_PW, { hours: 0 }), { qos: 1 });
    await untilValue(
      () => edge.received.length,
      (n) => n >= 1,
    );

    const guesser = await rawClient(c.cloud.tcp!.address.port, '127.0.0.2');
    cleanup.push(async () => guesser.close());
    guesser.socket.on('error', () => undefined);
    const closed = once(guesser.socket, 'close');
    guesser.socket.write(Array.from({ length: 20 }, (_, i) => hourFrame(WATER_MN, `guess${i}`)).join(''));
    await closed;
    expect(c.lines.filter((l) => l['msg'] === 'login locked out').map((l) => l['key'])).toEqual([
      `pw:${WATER_MN}`,
      'addr:127.0.0.2',
    ]);

    await edge.client.publishAsync(upTopic(WATER_MN), hourFrame(WATER_MN, WATER_PW, { hours: 1 }), { qos: 1 });
    await untilValue(
      () => edge.received.length,
      (n) => n >= 2,
    );
    expect(edge.received.map((p) => p.cn)).toEqual(['9014', '9014']);
    expect(await storedHours(c, WATER_MN, 2)).toHaveLength(2);
  });
});

describe('scrypt concurrency', () => {
  it('runs at most `concurrency` checks at once and refuses beyond the queue', async () => {
    const limiter = new Limiter(1, 2);
    let running = 0;
    let most = 0;
    const releases: (() => void)[] = [];
    const task = () =>
      limiter.run(async () => {
        most = Math.max(most, ++running);
        await new Promise<void>((r) => releases.push(r));
        running--;
        return 'checked';
      });
    // 1 running + 2 queued; the 4th finds the queue full.
    const results = [task(), task(), task(), task()];
    expect(await results[3]).toBeUndefined();
    for (let i = 0; i < 3; i++) {
      await settledTurn();
      releases.shift()!();
    }
    expect(await Promise.all(results.slice(0, 3))).toEqual(['checked', 'checked', 'checked']);
    expect(most).toBe(1);
  });
});

/** Lets pending promise callbacks run (a queued task reaches its await). */
const settledTurn = (): Promise<void> => new Promise((r) => setImmediate(r));
