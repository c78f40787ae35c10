import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { createRequire } from 'node:module';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { labelsModule } from '../api/labels.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** The static files live beside this module in the sources; the built module runs from dist/ and finds them there. */
function staticDir(): string {
  const here = import.meta.dirname;
  const candidates = [join(here, 'static'), join(here, '..', '..', '..', 'cloud', 'dashboard', 'static')];
  const found = candidates.find((d) => existsSync(join(d, 'index.html')));
  if (!found) throw new Error(`dashboard files not found in ${candidates.join(' or ')}`);
  return found;
}

/**
 * The monitoring-centre dashboard: a static shell (HTML, CSS, browser ES modules, uPlot) at `/` and
 * `/ui/...`. It holds no data: every figure it shows comes from the API with the operator's token.
 * Files are read once at start-up, so only these names are ever served (no path from the URL
 * reaches the file system).
 */
export async function dashboard(app: FastifyInstance): Promise<void> {
  const dir = staticDir();
  const uplot = join(createRequire(import.meta.url).resolve('uplot'), '..');
  const files = new Map<string, Buffer>();
  for (const name of await readdir(dir)) files.set(name, await readFile(join(dir, name)));
  files.set('uPlot.iife.min.js', await readFile(join(uplot, 'uPlot.iife.min.js')));
  files.set('uPlot.min.css', await readFile(join(uplot, 'uPlot.min.css')));
  // The names and units the pages show come from the server's one home of them, not a copy.
  files.set('labels.js', Buffer.from(labelsModule()));
  const send = (name: string) => async (_req: unknown, reply: FastifyReply) =>
    reply
      .header('content-type', TYPES[extname(name)] ?? 'application/octet-stream')
      .header('cache-control', 'no-cache')
      // The token sits in localStorage: no script but ours may run, and no other site may frame the page.
      .header('content-security-policy', "default-src 'self'; img-src 'self' data: blob:; frame-ancestors 'none'")
      .header('x-content-type-options', 'nosniff')
      .send(files.get(name));
  app.get('/', send('index.html'));
  for (const name of files.keys()) app.get(`/ui/${name}`, send(name));
}
