import { parse } from 'yaml';

/**
 * The plain object a registry file holds. A JSON file (JSON is YAML 1.2, so it means the same) is read
 * with JSON.parse. A YAML file in the usual block style — `stations:` and then one `- ` item per
 * station — is parsed one station at a time: YAML's document tree of a whole 10k-station registry
 * peaks at some 400 MB of heap, one station's at a few kB. Anything else (flow style, other keys,
 * document markers, an alias to an anchor in another station) is parsed whole, as before, so what a
 * file means and the errors it gets do not depend on this shortcut.
 */
export function parseRegistryText(text: string, file: string): unknown {
  if (file.endsWith('.json')) return JSON.parse(text);
  return stationByStation(text) ?? parse(text);
}

const blank = (line: string): boolean => /^\s*(#.*)?$/.test(line);

/** `{ stations }` from block-style YAML, or undefined where the shortcut does not apply. */
function stationByStation(text: string): { stations: unknown[] } | undefined {
  const lines = text.split(/\r?\n/);
  let i = 0;
  while (i < lines.length && blank(lines[i]!)) i++;
  if (!/^stations:\s*(#.*)?$/.test(lines[i] ?? '')) return undefined;
  i++;
  while (i < lines.length && blank(lines[i]!)) i++;
  const indent = /^( *)- /.exec(lines[i] ?? '')?.[1]?.length;
  if (indent === undefined) return undefined;
  const item = new RegExp(`^ {${indent}}-( |$)`);
  const inside = new RegExp(`^ {${indent + 1}}`);
  const stations: unknown[] = [];
  let start = i;
  const take = (end: number): boolean => {
    let parsed: unknown;
    try {
      parsed = parse(lines.slice(start, end).join('\n'));
    } catch {
      return false;
    }
    if (!Array.isArray(parsed) || parsed.length !== 1) return false;
    stations.push(parsed[0]);
    return true;
  };
  for (i++; i < lines.length; i++) {
    const line = lines[i]!;
    if (item.test(line)) {
      if (!take(i)) return undefined;
      start = i;
    } else if (!blank(line) && !inside.test(line)) break;
  }
  // Only blank lines and comments may follow the list.
  if (lines.slice(i).some((l) => !blank(l))) return undefined;
  if (!take(i)) return undefined;
  return { stations };
}
