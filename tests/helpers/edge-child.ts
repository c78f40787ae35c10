/**
 * The agent as its own process, for tests that kill it: `node edge-child.js CONFIG.json`, with the
 * warped clock of the test (HJ212_EDGE_WARP, HJ212_EDGE_REAL_START, HJ212_EDGE_SIM_START) so a
 * restarted agent continues the same simulated time. Logs JSON lines on stdout.
 */
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { parseEdgeConfig, startAgent } from '../../edge/index.js';

const [file] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: edge-child CONFIG.json');
const config = parseEdgeConfig(JSON.parse(readFileSync(file, 'utf8')), file);
const warp = Number(process.env['HJ212_EDGE_WARP']);
const realStart = Number(process.env['HJ212_EDGE_REAL_START']);
const simStart = Number(process.env['HJ212_EDGE_SIM_START']);
const agent = await startAgent(config, {
  logger: pino({ level: 'info' }),
  clock: () => simStart + (Date.now() - realStart) * warp,
  tickMs: 25,
});
process.once('SIGTERM', () => void agent.close().then(() => process.exit(0)));
