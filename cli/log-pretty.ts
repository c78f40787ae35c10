/**
 * `--pretty`: pino's JSON lines as a person reads them, one line per event:
 * `2025-06-01T00:00:01.250Z WARN  device lost; its data is B-flagged  mn=… device=nh3n reason="no answer …"`.
 * Small and built in (no pino-pretty dependency); a line that is not JSON passes through unchanged.
 */

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
// Shown in the line's own place, or not at all (pid and hostname say nothing on a single box).
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name']);

function text(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

export function prettyLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof entry !== 'object' || entry === null) return line;
  const time = entry['time'];
  const when = typeof time === 'number' ? new Date(time).toISOString() : typeof time === 'string' ? time : '';
  const level = (LEVELS[Number(entry['level'])] ?? String(entry['level'])).padEnd(5);
  const fields = Object.entries(entry)
    .filter(([key]) => !SKIP.has(key))
    .map(([key, value]) => `${key}=${text(value)}`);
  return [when, level, String(entry['msg'] ?? ''), ...(fields.length > 0 ? [` ${fields.join(' ')}`] : [])]
    .filter((part) => part !== '')
    .join(' ');
}

/** A pino destination writing pretty lines to `out`. */
export function prettyDestination(out: NodeJS.WritableStream): { write(chunk: string): boolean } {
  return {
    write: (chunk: string) =>
      out.write(
        chunk
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => `${prettyLine(l)}\n`)
          .join(''),
      ),
  };
}
