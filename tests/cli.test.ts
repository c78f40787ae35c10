import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/index.js';
import { frameSegment } from '../protocol/frame.js';
import { APPENDIX_A_EXAMPLE } from './fixtures/appendix-c.js';

const exec = promisify(execFile);
const GOOD = frameSegment(APPENDIX_A_EXAMPLE.segment);

async function cli(argv: string[], input = ''): Promise<{ code: number; out: string; err: string }> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  stdin.end(input);
  const code = await runCli(argv, { stdin, stdout, stderr });
  return { code, out, err };
}

const jsonLines = (text: string): Array<Record<string, unknown>> =>
  text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('hj212 decode', () => {
  it('prints one JSON object per frame and exits 0 when all are good', async () => {
    const { code, out } = await cli(['decode'], GOOD + GOOD);
    expect(code).toBe(0);
    const lines = jsonLines(out);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      ok: true,
      version: '2017',
      qn: '20160801085857223',
      st: '32',
      cn: '1062',
      mn: '010000A8900016F000169DC0',
      flag: 5,
      cp: { params: { RtdInterval: '30' } },
    });
  });

  it('reports a failed frame with its code and raw bytes, keeps the good ones, exits 1', async () => {
    const bad = GOOD.replace('1C80', '1C08');
    const { code, out } = await cli(['decode', '--strict', '-'], `${GOOD}noise${bad}${GOOD}`);
    expect(code).toBe(1);
    const lines = jsonLines(out);
    expect(lines.map((l) => l['ok'])).toEqual([true, false, false, true]);
    expect(lines[1]).toMatchObject({ ok: false, error: { code: 'garbage' }, raw: 'noise' });
    expect(lines[2]).toMatchObject({ ok: false, error: { code: 'bad-crc', field: 'CRC' }, raw: bad });
  });

  it('reads a file and reports vendor dialects leniently', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hj212-cli-'));
    const file = join(dir, 'capture.bin');
    writeFileSync(file, GOOD.replace('1C80', '1c80'));
    const lenient = await cli(['decode', file]);
    expect(lenient.code).toBe(0);
    expect(jsonLines(lenient.out)[0]).toMatchObject({ ok: true, relaxations: [{ code: 'crc-lowercase' }] });
    const strict = await cli(['decode', '--strict', file]);
    expect(strict.code).toBe(1);
    expect(jsonLines(strict.out)[0]).toMatchObject({ ok: false, error: { code: 'bad-crc-format' } });
  });

  it('refuses or flags a clear-text CP from a station with a key, as --clear-cp says', async () => {
    // A 2025 (Flag=9) 2011 upload in clear text; CRC from a transcription of appendix A's CRC16_Checkout.
    const clear =
      '##0140QN=20260301120000000;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=9;' +
      'CP=&&DataTime=20260301120000;w01018-Rtd=35.2,w01018-Flag=N&&BA41\r\n';
    const key = ['--sm4-key', '010000A8900016F000169DC0=0123456789abcdeffedcba9876543210'];
    const flagged = await cli(['decode', ...key], clear);
    expect(flagged.code).toBe(0);
    expect(jsonLines(flagged.out)[0]).toMatchObject({ ok: true, relaxations: [{ code: 'unencrypted-cp' }] });
    const refused = await cli(['decode', ...key, '--clear-cp', 'refuse'], clear);
    expect(refused.code).toBe(1);
    expect(jsonLines(refused.out)[0]).toMatchObject({ ok: false, error: { code: 'unencrypted-cp', field: 'CP' } });
    expect((await cli(['decode', '--clear-cp', 'maybe'])).err).toMatch(/--clear-cp maybe: write refuse or flag/);
  });

  it('rejects a bad option value with a message', async () => {
    const { code, err } = await cli(['decode', '--max-segment', 'lots']);
    expect(code).toBe(2);
    expect(err).toMatch(/--max-segment/);
  });
});

describe('hj212 encode', () => {
  it('turns decode output back into the same frames', async () => {
    const decoded = await cli(['decode'], GOOD);
    const encoded = await cli(['encode'], decoded.out);
    expect(encoded.code).toBe(0);
    expect(encoded.out).toBe(GOOD);
  });

  it('names the field of a bad line, goes on with the next, and exits 1', async () => {
    const input = [
      '{"cn":"20"}',
      'not json',
      '{"cn":"2011","cp":{"factors":{"w01018":{"Rtd":"1;2"}}}}',
      '{"cn":"9014","st":"91"}',
    ].join('\n');
    const { code, out, err } = await cli(['encode'], input);
    expect(code).toBe(1);
    expect(err).toMatch(/line 1: cn: cn is 4 digits/);
    expect(err).toMatch(/line 2: not JSON/);
    expect(err).toMatch(/line 3: cp\.factors\.w01018\.Rtd/);
    expect(out).toBe(frameSegment('ST=91;CN=9014;Flag=4;CP=&&&&'));
  });

  it('splits an oversize packet into PNUM/PNO frames with --split', async () => {
    const factors = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`w${String(20000 + i).padStart(5, '0')}`, { Avg: '12.345', Flag: 'N' }]),
    );
    const line = JSON.stringify({
      qn: '20160801085857534',
      st: '32',
      cn: '2061',
      pw: '123456',
      mn: '010000A8900016F000169DC0',
      flag: 5,
      cp: { params: { DataTime: '20160801080000' }, factors },
    });
    expect((await cli(['encode'], line)).err).toMatch(/split/);
    const { code, out } = await cli(['encode', '--split'], line);
    expect(code).toBe(0);
    const decoded = jsonLines((await cli(['decode', '--strict'], out)).out);
    expect(decoded.length).toBeGreaterThan(1);
    expect(decoded.every((d) => d['ok'] === true && d['flag'] === 7 && d['pnum'] === decoded.length)).toBe(true);
  });
});

describe('the hj212 binary', () => {
  it('runs as a real process with a pipe', async () => {
    const bin = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
    const help = await exec(process.execPath, [bin, '--help']);
    expect(help.stdout).toMatch(/decode/);
    const child = execFile(process.execPath, [bin, 'decode']);
    child.stdin!.end(GOOD);
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(jsonLines(out)[0]).toMatchObject({ ok: true, cn: '1062' });
  });

  it('ends quietly when the reader of its output goes away (decode … | head)', async () => {
    const bin = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
    const file = join(mkdtempSync(join(tmpdir(), 'hj212-cli-')), 'many.bin');
    // 20 000 frames of 113 bytes (2.2 MB of JSON out) overrun any pipe buffer long after head has gone.
    writeFileSync(file, GOOD.repeat(20_000));
    const script = `"$0" "$1" decode "$2" | head -n 1; echo "status \${PIPESTATUS[0]}" >&2`;
    const { stdout, stderr } = await exec('bash', ['-c', script, process.execPath, bin, file]);
    expect(jsonLines(stdout)).toHaveLength(1);
    expect(stderr).toBe('status 0\n');
  });
});
