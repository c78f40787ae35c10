import { parseArgs } from 'node:util';
import { StreamDecoder, type CodecOptions, type DecodeResult } from '../protocol/index.js';
import type { CliIo } from './index.js';
import { openInput, sm4Keys, write } from './io.js';

const HELP = `Usage: hj212 decode [--strict] [--sm4-key [MN=]HEX]... [--clear-cp refuse|flag] [--max-segment N] [FILE|-]

Reads an HJ 212 byte stream (a capture, a serial dump, stdin) and prints one JSON object a line per
frame: {"ok":true,"version":"2017","qn":...,"cn":"2011",...,"cp":{...}} or
{"ok":false,"error":{"code":...,"message":...},"raw":...}. Exit status 1 if any frame failed.
  --strict        accept the standard only (default: lenient, vendor dialects reported in "relaxations")
  --sm4-key       HJ 212-2025 SM4 key (32 hex digits) for all stations, or MN=HEX for one
  --clear-cp      a clear-text CP of a data command from a station with a key: refuse it (unencrypted-cp)
                  or flag it in "relaxations" (default: refuse with --strict, flag without)
  --max-segment   largest data segment in bytes (default 1024 strict, 9999 lenient)
`;

/** One output line: packet fields first, in the order of the data segment, then what the decoder noticed. */
export function resultJson(r: DecodeResult): Record<string, unknown> {
  if (!r.ok) return { ok: false, error: r.error, raw: r.raw, offset: r.offset };
  const { packet: p, crcDialect, relaxations, encrypted, legacyCodes } = r.frame;
  const out: Record<string, unknown> = {
    ok: true,
    version: p.version,
    qn: p.qn,
    st: p.st,
    cn: p.cn,
    pw: p.pw,
    mn: p.mn,
    flag: p.flag,
    pnum: p.pnum,
    pno: p.pno,
    cp: p.cp,
  };
  if (crcDialect !== 'hj212') out['crc'] = crcDialect;
  if (relaxations.length > 0) out['relaxations'] = relaxations;
  if (encrypted) out['encrypted'] = true;
  if (legacyCodes) out['legacyCodes'] = legacyCodes;
  out['offset'] = r.offset;
  return out;
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      strict: { type: 'boolean', default: false },
      'sm4-key': { type: 'string', multiple: true },
      'max-segment': { type: 'string' },
      'clear-cp': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (positionals.length > 1) {
    io.stderr.write(`hj212 decode: one input at most, got ${positionals.length}\n${HELP}`);
    return 2;
  }
  const opts: CodecOptions = { mode: values.strict ? 'strict' : 'lenient' };
  const keys = sm4Keys(values['sm4-key']);
  if (keys) opts.sm4Key = keys;
  const clearCp = values['clear-cp'];
  if (clearCp !== undefined) {
    if (clearCp !== 'refuse' && clearCp !== 'flag') {
      io.stderr.write(`hj212 decode: --clear-cp ${clearCp}: write refuse or flag\n`);
      return 2;
    }
    opts.clearCp = clearCp;
  }
  if (values['max-segment'] !== undefined) {
    const n = Number(values['max-segment']);
    if (!Number.isInteger(n) || n < 1 || n > 9999) {
      io.stderr.write('hj212 decode: --max-segment must be an integer 1-9999\n');
      return 2;
    }
    opts.maxSegment = n;
  }
  const decoder = new StreamDecoder(opts);
  let failed = false;
  const emit = async (results: DecodeResult[]): Promise<void> => {
    for (const r of results) {
      if (!r.ok) failed = true;
      await write(io.stdout, `${JSON.stringify(resultJson(r))}\n`);
    }
  };
  for await (const chunk of openInput(positionals[0], io)) {
    await emit(decoder.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)));
  }
  await emit(decoder.end());
  return failed ? 1 : 0;
}
