import { afterEach, describe, expect, it } from 'vitest';
import { startAgent } from '../edge/index.js';
import { freePort } from './helpers/cloud-procs.js';
import { warpedClock, waterOutlet } from './helpers/edge-agent.js';
import { flat, memoryLogger, SIM_START, startSim } from './helpers/edge-sim.js';
import { freeBytes, smallFilesystem } from './helpers/fault-disk.js';
import { edgeLedger } from './helpers/fault-pipeline.js';

// tests/edge-store.test.ts proves the drop order on the store alone; this runs the whole agent, with
// its platform unreachable, on a real 16 MB filesystem (tmpfs, when the tests run as root). Smaller
// than that, SQLite's write-ahead log (checkpointed at ~4 MB by default) fills the disk before any
// outbox cap is reached: see the report of issue 8.

const WARP = 3600;
const HOUR_MS = 3_600_000 / WARP;
// Below the config's 64 KiB minimum, applied past validation, so eight hours of data overflow it.
const CAP = 16 * 1024;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe('edge outbox on a small disk', () => {
  it('platform unreachable for 8 hours: the byte cap drops real-time and minute data first, logs it, and every hour record survives', async () => {
    const fs = await smallFilesystem(16 * 1024 * 1024);
    cleanups.push(fs.remove);
    const clock = warpedClock(WARP, SIM_START - 10 * 60_000);
    const devices = [{ unit: 1, profile: 'cod' }, { unit: 4, profile: 'water-flow' }];
    const sim = await startSim({ tcp: { port: 0 }, devices, scenario: { seed: 1, start: '2025-05-31T23:50:00+08:00', signals: { cod: flat(48.5), 'water-flow': flat(20) } } }, clock);
    cleanups.push(() => sim.close());
    // Nothing listens there: every record stays in the outbox.
    const dead = await freePort();
    const config = waterOutlet(fs.dir, sim.tcp!.port, dead);
    const { logger, lines } = memoryLogger();
    const agent = await startAgent({ ...config, uplinks: config.uplinks.map((u) => ({ ...u, outboxBytes: CAP })) }, { logger, clock, tickMs: 25 });
    let open = true;
    cleanups.push(async () => void (open && (await agent.close())));
    await new Promise((r) => setTimeout(r, 8 * HOUR_MS));
    const depth = agent.health().uplinks['province']!.outbox;
    await agent.close();
    open = false;
    const free = await freeBytes(fs.dir);
    console.info(JSON.stringify({ fault: 'outbox cap on a small disk', realFilesystem: fs.real, capBytes: CAP, outbox: depth, freeBytes: free }));

    expect(depth.bytes).toBeLessThanOrEqual(CAP);
    const drops = lines.filter((l) => l['reason'] === 'outbox-full');
    expect(drops.length).toBeGreaterThan(0);
    expect(new Set(drops.flatMap((l) => l['cns'] as string[]))).not.toContain('2061');
    const { produced, pending } = edgeLedger(fs.dir);
    const hours = [...produced].filter((k) => k.includes('|hour|'));
    expect(hours.length).toBeGreaterThanOrEqual(6 * 2);
    expect(hours.filter((k) => !pending.has(k))).toEqual([]);
    // The dropped real-time and minute data are still in the history, for a platform's re-send request.
    expect([...produced].filter((k) => k.includes('|minute|')).length).toBeGreaterThan([...pending].filter((k) => k.includes('|minute|')).length);
    if (fs.real) expect(free).toBeGreaterThan(0);
  }, 30_000);
});
