import { parseArgs } from 'node:util';
import { encodeFrames, Hj212Error, type EncodeOptions, type Packet } from '../protocol/index.js';
import { PacketSchema, describeZodError } from '../protocol/schema.js';
import type { CliIo } from './index.js';
import { lines, openInput, sm4Keys, write } from './io.js';

const HELP = `Usage: hj212 encode [--split] [--sm4-key [MN=]HEX]... [FILE|-]

Reads JSON objects, one a line (the format "hj212 decode" prints), and prints each as an HJ 212 frame
with its length and CRC. Exit status 1 if any line was rejected (the reason goes to stderr).
  --split      split a packet over 1024 bytes into PNUM/PNO packets instead of rejecting it
  --sm4-key    HJ 212-2025 SM4 key (32 hex digits) for all stations, or MN=HEX for one
`;

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      split: { type: 'boolean', default: false },
      'sm4-key': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const opts: EncodeOptions = {};
  const keys = sm4Keys(values['sm4-key']);
  if (keys) opts.sm4Key = keys;
  let failed = false;
  let lineNo = 0;
  for await (const line of lines(openInput(positionals[0], io))) {
    lineNo++;
    if (line.trim() === '') continue;
    const reason = await encodeLine(line, values.split === true, opts, io);
    if (reason !== undefined) {
      failed = true;
      io.stderr.write(`hj212 encode: line ${lineNo}: ${reason}\n`);
    }
  }
  return failed ? 1 : 0;
}

/** Prints the frame(s) for one JSON line; returns why it was rejected, if it was. */
async function encodeLine(line: string, split: boolean, opts: EncodeOptions, io: CliIo): Promise<string | undefined> {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
  if (typeof json === 'object' && json !== null && (json as { ok?: unknown }).ok === false) {
    return 'a failed decode ("ok":false) has no packet to encode';
  }
  const parsed = PacketSchema.safeParse(json);
  if (!parsed.success) return describeZodError(parsed.error);
  const packet = parsed.data as Packet;
  try {
    const frames = encodeFrames(packet, { ...opts, split });
    for (const f of frames) await write(io.stdout, f);
    return undefined;
  } catch (err) {
    if (err instanceof Hj212Error) return `${err.field ? `${err.field}: ` : ''}${err.message}`;
    throw err;
  }
}
