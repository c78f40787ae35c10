import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as protocol from '../protocol/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Every module `entry` loads, following relative imports and re-exports; returns the files and the packages. */
function moduleGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of info.importedFiles) {
      if (fileName.startsWith('.')) visit(resolve(dirname(file), fileName.replace(/\.js$/, '.ts')));
      else packages.add(fileName);
    }
  };
  visit(resolve(ROOT, entry));
  return { files, packages };
}

describe('the codec entry, protocol/index', () => {
  it('loads no package but Node built-ins: no zod on the codec path', () => {
    const { files, packages } = moduleGraph('protocol/index.ts');
    expect([...packages].filter((p) => !p.startsWith('node:'))).toEqual([]);
    expect([...files].map((f) => f.slice(ROOT.length + 1))).not.toContain('protocol/schema.ts');
  });

  it('exports what a codec user needs and not the building blocks', () => {
    for (const name of [
      'decodeFrame',
      'encodeFrame',
      'encodeFrames',
      'StreamDecoder',
      'splitPacket',
      'Reassembler',
      'dataAnswer',
      'qnRtnAnswer',
      'exeRtnAnswer',
      'noticeAnswer',
      'request',
      'historyRequest',
      'Hj212Error',
      'CN',
      'QnRtn',
      'ExeRtn',
      'FACTORS',
      'factor',
      'formatHjTime',
      'parseHjTime',
      'makeQn',
    ])
      expect(protocol, name).toHaveProperty(name);
    for (const name of [
      'PacketSchema',
      'describeZodError',
      'crc16',
      'parseCp',
      'buildSegment',
      'frameSegment',
      'sm4Ecb',
    ])
      expect(protocol, name).not.toHaveProperty(name);
  });
});
