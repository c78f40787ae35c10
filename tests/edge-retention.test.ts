import { describe, expect, it } from 'vitest';
import { compareDrop, planDrops, type DropCandidate } from '../edge/store/retention.js';

// One policy for the outbox cap, the full disk and the records held in memory (edge/store/retention.ts).
const c = (id: number, cn: DropCandidate['cn'], size: number, extra: Partial<DropCandidate> = {}) => ({
  id,
  cn,
  order: id,
  size,
  ...extra,
});

describe('the drop-priority policy', () => {
  // An outbox: id 1 hour (300 B), 2 minute (100 B), 3 real-time (50 B), 4 minute (100 B), 5 parameter change (200 B).
  const outbox = [c(1, '2061', 300), c(2, '2051', 100), c(3, '2011', 50), c(4, '2051', 100), c(5, '3020', 200)];

  it('takes real-time and minute data oldest first until the excess is covered, and no more', () => {
    // 180 over: id 2 (180-100 = 80 left), id 3 (80-50 = 30 left), id 4 (30-100 < 0: covered).
    expect(planDrops(outbox, 180, 1).map((d) => d.id)).toEqual([2, 3, 4]);
    // 100 over: id 2 alone covers it exactly (100-100 = 0).
    expect(planDrops(outbox, 100, 1).map((d) => d.id)).toEqual([2]);
    expect(planDrops(outbox, 0, 1)).toEqual([]);
  });

  it('reaches hour and parameter records only after all real-time and minute data, and only when allowed', () => {
    // 400 over: class 0 frees 100+50+100 = 250 (150 left), then the oldest class 1, id 1 (150-300 < 0).
    expect(planDrops(outbox, 400, 1).map((d) => d.id)).toEqual([2, 3, 4, 1]);
    // 700 over: 250 + 300 (id 1) = 550 (150 left), then id 5 (150-200 < 0).
    expect(planDrops(outbox, 700, 1).map((d) => d.id)).toEqual([2, 3, 4, 1, 5]);
    // A full disk or memory (up to class 0) never takes them: 250 freed of 400, the caller decides what then.
    expect(planDrops(outbox, 400, 0).map((d) => d.id)).toEqual([2, 3, 4]);
    expect(planDrops([c(1, '2061', 1), c(2, '2031', 1), c(3, '2041', 1)], 3, 0)).toEqual([]);
  });

  it('leaves its input as it was', () => {
    const input = [c(2, '2051', 1), c(1, '2011', 1)];
    expect(planDrops(input, 2, 0).map((d) => d.id)).toEqual([1, 2]);
    expect(input.map((d) => d.id)).toEqual([2, 1]);
  });

  it('between the oldest rows of each table on a full disk: the oldest, and at equal age the spare outbox copy', () => {
    const heads = [
      { source: 'outbox a', cn: '2051', order: 1000, size: 1, spare: true },
      { source: 'history 2011', cn: '2011', order: 900, size: 1 },
      { source: 'history 2051', cn: '2051', order: 1000, size: 1 },
    ] as const;
    expect(planDrops(heads, 1, 0).map((h) => h.source)).toEqual(['history 2011']);
    // Without the older real-time row, 1000 ties: the outbox copy goes, the history row still answers a re-send
    // request.
    expect(planDrops([heads[2], heads[0]], 1, 0).map((h) => h.source)).toEqual(['outbox a']);
    // Equal in everything: the order given (two uplinks' outboxes).
    const b = { ...heads[0], source: 'outbox b' };
    expect(planDrops([b, heads[0]], 1, 0).map((h) => h.source)).toEqual(['outbox b']);
  });

  it('orders by class, then age, then spare', () => {
    expect(compareDrop({ cn: '2061', order: 1, size: 1 }, { cn: '2011', order: 9, size: 1 })).toBeGreaterThan(0);
    expect(compareDrop({ cn: '2011', order: 1, size: 1 }, { cn: '2051', order: 2, size: 1 })).toBeLessThan(0);
    expect(compareDrop({ cn: '2051', order: 5, size: 1, spare: true }, { cn: '2051', order: 5, size: 1 })).toBeLessThan(
      0,
    );
    expect(compareDrop({ cn: '2051', order: 5, size: 1 }, { cn: '2011', order: 5, size: 1 })).toBe(0);
  });
});
