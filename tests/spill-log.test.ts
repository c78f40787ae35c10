import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lineRuns, toLine, type Point } from '../cloud/index.js';
import { SpillIndex } from '../cloud/store/spill-index.js';
import { firstLines, SpillLog, unsentLines } from '../cloud/store/spill-log.js';

const dirs: string[] = [];
const logs: SpillLog[] = [];
afterEach(() => {
  for (const l of logs.splice(0)) l.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'hj212-spill-log-'));
  dirs.push(d);
  return join(d, 'spill.db.log');
}

function open(dir: string, opts: ConstructorParameters<typeof SpillLog>[1] = {}): SpillLog {
  const log = new SpillLog(dir, opts);
  logs.push(log);
  return log;
}

/** Closes a log as a crash would leave it: files closed, nothing more written (no marker, no sync). */
function crash(log: SpillLog): void {
  logs.splice(logs.indexOf(log), 1);
  log.close();
}

const segments = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.lp'));

describe('spill log', () => {
  it('appends lines, offers only fsynced bytes to send, reads ranges back, keeps the sent position', async () => {
    const dir = tempDir();
    const log = open(dir);
    expect(log.append('a,x=1 v=1 1\nb,x=1 v=2 1\n')).toEqual({ seq: 1, offset: 0 });
    expect(log.append('c,x=1 v=3 2\n')).toEqual({ seq: 1, offset: 24 });
    // Written, not yet on disk: nothing to send.
    expect(log.next()).toBeUndefined();
    log.syncNow();
    expect(log.next()).toEqual({ seq: 1, offset: 0, end: 36 });
    expect(log.readNow(1, 12, 24).toString()).toBe('b,x=1 v=2 1\nc,x=1 v=3 2\n');
    expect(log.readNow(1, 24, 12).toString()).toBe('c,x=1 v=3 2\n');
    expect(unsentLines(dir)).toBe(3);
    log.sent(1, 24);
    expect(log.next()).toEqual({ seq: 1, offset: 24, end: 36 });
    expect(readFileSync(join(dir, 'sent'), 'latin1')).toBe('0000000001 000000000000024\n');
    expect(unsentLines(dir)).toBe(1);
    log.sent(1, 36);
    expect(log.next()).toBeUndefined();
    expect(unsentLines(dir)).toBe(0);
  });

  it('starts a new segment past its size and deletes a segment once all of it is sent', async () => {
    const dir = tempDir();
    const dropped: number[] = [];
    const log = open(dir, { segmentBytes: 20, onDrop: (seq) => dropped.push(seq) });
    log.append('m,k=1 v=1 1\n'); // 12 bytes: segment 1 has room for more
    log.append('m,k=1 v=2 2\n'); // 24: full
    expect(log.append('m,k=1 v=3 3\n')).toEqual({ seq: 2, offset: 0 });
    log.syncNow();
    expect(segments(dir)).toEqual(['0000000001.lp', '0000000002.lp']);
    expect(log.next()).toEqual({ seq: 1, offset: 0, end: 24 });
    log.sent(1, 12);
    expect(dropped).toEqual([]);
    log.sent(1, 24);
    // Segment 1 all sent: gone; the current segment is kept even when all sent.
    expect(dropped).toEqual([1]);
    expect(segments(dir)).toEqual(['0000000002.lp']);
    expect(log.next()).toEqual({ seq: 2, offset: 0, end: 12 });
    log.sent(2, 12);
    expect(segments(dir)).toEqual(['0000000002.lp']);
    expect(unsentLines(dir)).toBe(0);
  });

  it('after a crash: replays the unsent tail from the sent position and cuts off a torn last line', async () => {
    const dir = tempDir();
    const before = open(dir);
    before.append('m,k=1 v=1 1\nm,k=1 v=2 2\n');
    before.append('m,k=1 v=3 3\n');
    before.syncNow();
    before.sent(1, 12);
    crash(before);
    // The process died inside a write of a line it never confirmed.
    appendFileSync(join(dir, '0000000001.lp'), 'm,k=1 v=4');
    expect(unsentLines(dir)).toBe(2);

    const after = open(dir);
    expect([...after.unsent()].map((u) => [u.seq, u.offset, u.bytes.toString()])).toEqual([
      [1, 12, 'm,k=1 v=2 2\nm,k=1 v=3 3\n'],
    ]);
    expect(readFileSync(join(dir, '0000000001.lp'), 'utf8')).toBe('m,k=1 v=1 1\nm,k=1 v=2 2\nm,k=1 v=3 3\n');
    // New writes go to a new segment; the old one is sent from where the last run stopped.
    expect(after.append('m,k=1 v=5 5\n')).toEqual({ seq: 2, offset: 0 });
    expect(after.next()).toEqual({ seq: 1, offset: 12, end: 36 });
    after.sent(1, 36);
    expect(segments(dir)).toEqual(['0000000002.lp']);
    after.syncNow();
    expect(after.next()).toEqual({ seq: 2, offset: 0, end: 12 });
  });

  it('with the sent position lost in a crash: replays each segment whole (InfluxDB keeps a point once)', async () => {
    const dir = tempDir();
    const before = open(dir);
    before.append('m,k=1 v=1 1\n');
    before.syncNow();
    before.sent(1, 12);
    crash(before);
    rmSync(join(dir, 'sent'));
    const after = open(dir);
    expect([...after.unsent()].map((u) => u.bytes.toString())).toEqual(['m,k=1 v=1 1\n']);
  });

  it('a torn line alone in a segment leaves it empty, and an empty segment is skipped', async () => {
    const dir = tempDir();
    crash(open(dir));
    appendFileSync(join(dir, '0000000001.lp'), 'm,k=1 v=');
    const after = open(dir);
    expect([...after.unsent()]).toEqual([]);
    expect(after.next()).toBeUndefined();
    expect(segments(dir)).toEqual(['0000000002.lp']);
  });

  it('cuts a batch at whole lines', () => {
    const b = Buffer.from('ab\ncd\nef');
    expect(firstLines(b, 1)).toEqual({ bytes: 3, lines: 1 });
    expect(firstLines(b, 5)).toEqual({ bytes: 6, lines: 2 });
    expect(firstLines(Buffer.from('abc'), 5)).toEqual({ bytes: 0, lines: 0 });
  });
});

describe('spill index', () => {
  it('finds the runs of a station and kind in a time range, in write order, until their segment is dropped', () => {
    const ix = new SpillIndex();
    ix.add(2, 'M1', 'hour', 300, 0, 10);
    ix.add(1, 'M1', 'hour', 100, 0, 40);
    ix.add(1, 'M1', 'minute', 100, 40, 20);
    ix.add(1, 'M2', 'hour', 100, 60, 20);
    ix.add(1, 'M1', 'hour', 200, 80, 30);
    expect(ix.find('M1', 'hour', 100, 301)).toEqual([
      { seq: 1, offset: 0, length: 40 },
      { seq: 1, offset: 80, length: 30 },
      { seq: 2, offset: 0, length: 10 },
    ]);
    expect(ix.find('M1', 'hour', 101, 300)).toEqual([{ seq: 1, offset: 80, length: 30 }]);
    ix.drop(1);
    expect(ix.find('M1', 'hour', 0, 1000)).toEqual([{ seq: 2, offset: 0, length: 10 }]);
  });
});

describe('line runs', () => {
  const p = (factor: string, time: number, extra: Partial<Point> = {}): Point => ({
    mn: 'M 1',
    factor,
    kind: 'rtd',
    time,
    values: { Rtd: 1.5 },
    flag: 'N',
    outlet: '总排口,1',
    ...extra,
  });

  it('writes the lines toLine writes, one run per station, kind, time and outlet', () => {
    const points = [
      p('w01018', 5),
      p('w21003', 5, { values: {}, flag: undefined }),
      p('w01018', 6),
      p('w01018', 6, { outlet: undefined }),
      p('w01018', 6, { kind: 'minute', values: { Avg: 2, Cou: 3 } }),
    ];
    const runs = lineRuns(points);
    expect(runs.map((r) => [r.mn, r.kind, r.time, r.n])).toEqual([
      ['M 1', 'rtd', 5, 2],
      ['M 1', 'rtd', 6, 1],
      ['M 1', 'rtd', 6, 1],
      ['M 1', 'minute', 6, 1],
    ]);
    expect(runs.map((r) => r.text).join('')).toBe(points.map((x) => `${toLine(x)}\n`).join(''));
    expect(runs[0]!.text).toBe(
      'rtd,factor=w01018,mn=M\\ 1,outlet=总排口\\,1 Rtd=1.5,flag="N" 5\n' +
        'rtd,factor=w21003,mn=M\\ 1,outlet=总排口\\,1 flag="" 5\n',
    );
  });
});
