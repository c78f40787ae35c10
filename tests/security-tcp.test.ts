import { once } from 'node:events';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { GAS_MN, GAS_PW, rawClient, startTestCloud, WATER_MN, WATER_PW } from './helpers/cloud-fixtures.js';
import { hourFrame, refusals, storedHours } from './helpers/security.js';

// Attack 8 (raw TCP): a slow sender kept its connection by sending a byte every 2 s, under the idle
// timeout, never completing a frame. A frame begun must now be complete within tcp.frameDeadlineMs.

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('frame-completion deadline', () => {
  it(
    'cuts off a sender trickling a frame a byte at a time, logged with its address; an honest logger ' +
      'beside it is stored, and so is the trickler’s next connection sent in one go',
    async () => {
      const c = await startTestCloud({ tcp: { host: '127.0.0.1', port: 0, frameDeadlineMs: 500 } });
      cleanup.push(() => c.stop());
      const port = c.cloud.tcp!.address.port;

      // One byte every 100 ms: a ~170-byte frame would take ~17 s, far past the 500 ms deadline.
      const slow = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' });
      slow.on('error', () => undefined);
      await once(slow, 'connect');
      const frame = Buffer.from(hourFrame(WATER_MN, WATER_PW));
      // Closed, by a FIN or (a byte arriving as the server cuts it) a reset: once() would reject on the reset.
      const closed = new Promise((resolve) => slow.once('close', resolve));
      let sent = 0;
      const timer = setInterval(() => slow.write(frame.subarray(sent, ++sent)), 100);
      cleanup.push(async () => clearInterval(timer));
      const honest = await rawClient(port);
      cleanup.push(async () => honest.close());
      honest.socket.write(hourFrame(GAS_MN, GAS_PW));
      await closed;
      clearInterval(timer);
      expect(sent).toBeLessThan(frame.length);
      expect(refusals(c)).toEqual([['frame-deadline', undefined, '127.0.0.2']]);
      expect(c.lines.find((l) => l['reason'] === 'frame-deadline')).toMatchObject({ deadlineMs: 500, via: 'tcp' });
      expect((await honest.received(1)).map((p) => p.cn)).toEqual(['9014']);

      const again = await rawClient(port, '127.0.0.2');
      cleanup.push(async () => again.close());
      again.socket.write(frame);
      expect((await again.received(1)).map((p) => p.cn)).toEqual(['9014']);
      expect(await storedHours(c, WATER_MN)).toHaveLength(1);
      expect(await storedHours(c, GAS_MN)).toHaveLength(1);
    },
  );
});
