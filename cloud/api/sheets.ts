import writeXlsxFile from 'write-excel-file/node';

/** A cell of an exported table: text, a number, or nothing. */
export type Cell = string | number | null;

/** A table as the exports write it: a header line, then lines of cells. */
export interface Sheet {
  name: string;
  header: readonly string[];
  lines: readonly (readonly Cell[])[];
}

/**
 * A text cell a spreadsheet would run as a formula (=, +, -, @, or a tab or CR before one: an
 * enterprise named `=HYPERLINK(...)` or `+cmd|...`) gets a leading apostrophe, which the spreadsheet
 * shows as text and does not display (OWASP "CSV injection"). Rates and counts we format ourselves never start so.
 */
export const neutralise = (s: string): string => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);

/** RFC 4180: quote a field only when it needs it. */
const field = (v: Cell): string => {
  if (v === null) return '';
  const s = typeof v === 'number' ? String(v) : neutralise(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

/** CSV with a BOM, so that spreadsheet programs in China read the Chinese names as UTF-8; CRLF line ends. */
export function toCsv(header: readonly string[], lines: readonly (readonly Cell[])[]): string {
  return '\uFEFF' + [header, ...lines].map((l) => l.map(field).join(',')).join('\r\n') + '\r\n';
}

/**
 * One worksheet per table (header in bold, numbers as numbers), by write-excel-file. Text is not
 * neutralised: an XLSX cell is typed, a string cell is never run as a formula.
 */
export async function toXlsx(sheets: readonly Sheet[]): Promise<Buffer> {
  return writeXlsxFile(
    sheets.map((s) => ({
      // Excel limits a sheet name to 31 characters and refuses []:*?/\ in it.
      sheet: s.name.replace(/[[\]:*?/\\]/g, '_').slice(0, 31),
      data: [
        s.header.map((value) => ({ value, fontWeight: 'bold' as const })),
        ...s.lines.map((l) => l.map((value) => (value === null ? null : { value }))),
      ],
    })),
  ).toBuffer();
}

/** `attachment; filename=...` for a download; the name is ours (MN, period, kind), ASCII only. */
export const attachment = (name: string): string => `attachment; filename="${name.replace(/[^\w.-]/g, '_')}"`;
