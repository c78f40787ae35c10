import { afterEach, describe, expect, it } from 'vitest';
import { sha256 } from '../cloud/index.js';
import { loggable } from '../cloud/redact.js';
import { startTestCloud, testStations, WATER_MN } from './helpers/cloud-fixtures.js';
import { startMosquitto } from './helpers/cloud-procs.js';

// Attacks 6 and 8 (HTTP side): formula injection through enterprise and outlet names in the report
// export, a refused ?token= logged in full, an MQTT URL's user:password logged as is, JSON without nosniff.

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const TOKEN = 'http-token-0123456789abcdef';
const http = { host: '127.0.0.1', port: 0, tokens: [{ name: 'ops', role: 'read' as const, sha256: sha256(TOKEN) }] };

describe('report export', () => {
  it('neutralises cells a spreadsheet would run as formulas with a leading apostrophe', async () => {
    const [water, gas] = await testStations();
    const c = await startTestCloud({ http }, [
      { ...water!, enterprise: '=HYPERLINK("http://evil.example/x","点击")', outlet: "+cmd|' /C calc'!A0" },
      { ...gas!, enterprise: '@SUM(1+1)', outlet: '-2+3' },
    ]);
    cleanup.push(() => c.stop());
    const r = await fetch(`http://127.0.0.1:${c.cloud.http!.address.port}/report.csv?day=2026-11-20&lang=en`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    const rows = (await r.text()).split('\r\n').slice(1, 3);
    // Each name gets a leading ' (shown as text); the one with quotes and a comma is also quoted (RFC 4180).
    expect(rows.map((row) => row.split(',').slice(0, 2).join(','))).toEqual([
      `2026-11-20,"'=HYPERLINK(""http://evil.example/x""`,
      "2026-11-20,'@SUM(1+1)",
    ]);
    expect(rows[0]).toContain(`,'+cmd|' /C calc'!A0,${WATER_MN},`);
    expect(rows[1]).toContain(",'-2+3,");
  });
});

describe('what the logs show of URLs', () => {
  it('a refused ?token= is logged by path only; API answers carry nosniff', async () => {
    const c = await startTestCloud({ http });
    cleanup.push(() => c.stop());
    const base = `http://127.0.0.1:${c.cloud.http!.address.port}`;
    const refused = await fetch(`${base}/stations?token=SECRET-IN-QUERY-42`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-content-type-options')).toBe('nosniff');
    const ok = await fetch(`${base}/stations`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect([ok.status, ok.headers.get('content-type'), ok.headers.get('x-content-type-options')]).toEqual([
      200,
      'application/json; charset=utf-8',
      'nosniff',
    ]);
    expect(c.lines.filter((l) => l['msg'] === 'request refused').map((l) => [l['reason'], l['url'], l['who']])).toEqual(
      [['no-token', '/stations', 'addr:127.0.0.1']],
    );
    expect(JSON.stringify(c.lines)).not.toContain('SECRET-IN-QUERY-42');
  });

  it('an MQTT URL with user:password is logged without them', async () => {
    const mosq = await startMosquitto();
    cleanup.push(() => mosq.stop());
    const c = await startTestCloud({
      tcp: undefined,
      mqtt: { mode: 'external', url: `mqtt://ingest:hunter2-secret@127.0.0.1:${mosq.port}` },
    });
    cleanup.push(() => c.stop());
    const subscribed = c.lines.find((l) => l['msg'] === 'subscribed to the external MQTT broker');
    expect(subscribed?.['url']).toBe(`mqtt://***@127.0.0.1:${mosq.port}`);
    expect(JSON.stringify(c.lines)).not.toContain('hunter2-secret');
  });

  it('loggable() drops credentials, query and fragment', () => {
    expect(loggable('mqtts://u:p@broker.example:8883/?x=1#f')).toBe('mqtts://***@broker.example:8883/');
    expect(loggable('https://hooks.example/alarm?token=abc')).toBe('https://hooks.example/alarm');
    expect(loggable('not a url?token=abc')).toBe('not a url');
  });
});
