import type { z } from 'zod';
import { systemCode, to2005Code } from '../protocol/index.js';
import { DEFAULT_PASSWORD } from '../protocol/wire.js';
import type { EdgeConfig, RegisterSpec } from './config.js';
import { registerWidth } from './registers.js';

/**
 * The mistakes that pass a schema and fail at the outlet: registers past the 16-bit address space,
 * Modicon numbering, MNs the platform's decoder refuses, system codes not in table 5. Run after the
 * field checks, as one more refinement of the configuration.
 */

type Path = (string | number)[];
type Register = Pick<RegisterSpec, 'address' | 'type' | 'function'>;

/** Every register the configuration reads, with its path. */
function registers(config: EdgeConfig): [Path, Register][] {
  const out: [Path, Register][] = [];
  config.devices.forEach((d, i) => {
    d.factors.forEach((f, j) => {
      out.push([['devices', i, 'factors', j, 'value'], f.value]);
      if (f.status) out.push([['devices', i, 'factors', j, 'status'], f.status]);
    });
    if (d.status) out.push([['devices', i, 'status'], d.status]);
    d.parameters.forEach((p, k) => out.push([['devices', i, 'parameters', k], p]));
  });
  config.facilities.forEach((f, i) => out.push([['facilities', i, 'state'], f.state]));
  return out;
}

/** Modbus addresses one register as 0-65535 (Modbus Application Protocol v1.1b3 §4.4). */
export function registerProblem(spec: Register): string | undefined {
  const { address, type } = spec;
  const fc = spec.function === 'holding' ? 'function: holding (FC 03)' : 'function: input (FC 04)';
  // Modicon's 5-digit reference numbers count from 1 behind a table digit: 4xxxx holding, 3xxxx input.
  if (address >= 40001 && address <= 49999)
    return (
      `${address} looks like Modicon numbering (4xxxx is holding register xxxx, counted from 1): write address: ` +
      `${address - 40001} with function: holding (FC 03)`
    );
  if (address >= 30001 && address <= 39999)
    return (
      `${address} looks like Modicon numbering (3xxxx is input register xxxx, counted from 1): write address: ` +
      `${address - 30001} with function: input (FC 04)`
    );
  const width = registerWidth(type);
  if (address + width > 0x10000)
    return (
      `a ${type} at ${address} needs registers ${address}-${address + width - 1}, past the last Modbus register ` +
      `65535; check the address in the analyzer's register map (${fc})`
    );
  return undefined;
}

const MN_2017 = /^[0-9A-F]{24}$/;

export function siteChecks(config: EdgeConfig, ctx: z.RefinementCtx): void {
  for (const [path, spec] of registers(config)) {
    const problem = registerProblem(spec);
    if (problem) ctx.addIssue({ code: 'custom', path: [...path, 'address'], message: problem });
  }
  const st = config.station.st;
  if (!systemCode(st) || st === '91') {
    ctx.addIssue({
      code: 'custom',
      path: ['station', 'st'],
      message:
        `"${st}" is not a station's system code of HJ 212-2017 table 5: use 32 (surface water pollution ` +
        'source) or 31 (air pollution source), or the code the platform registered',
    });
  }
  config.uplinks.forEach((uplink, i) => {
    const mn = uplink.mn ?? config.station.mn;
    // HJ 212-2017 6.3.2 (and 2025): MN is 24 hex digits (EPC-96); 14 characters is the HJ/T 212-2005 form
    // many platforms still register, so it is let through.
    if (uplink.version === '2005') {
      // HJ/T 212-2005 6.3.2: the MN is 14 characters; a strict 2005 platform refuses any other length.
      if (mn.length !== 14)
        ctx.addIssue({
          code: 'custom',
          path: uplink.mn === undefined ? ['station', 'mn'] : ['uplinks', i, 'mn'],
          message:
            `uplink ${uplink.id} speaks HJ/T 212-2005, whose MN is 14 characters; ${mn} has ${mn.length}: ` +
            'give this uplink the MN the 2005 platform registered (uplinks[].mn)',
        });
      return;
    }
    if (MN_2017.test(mn) || mn.length === 14) return;
    ctx.addIssue({
      code: 'custom',
      path: uplink.mn === undefined ? ['station', 'mn'] : ['uplinks', i, 'mn'],
      message:
        `uplink ${uplink.id} speaks HJ 212-${uplink.version}, whose MN is 24 hex digits 0-9 A-F ` +
        `(EPC-96, HJ 212-2017 6.3.2); ${mn} has ${mn.length} characters` +
        (/[a-z]/.test(mn) ? ' and lower-case letters' : '') +
        ': copy the MN the platform registered' +
        (uplink.mn === undefined ? ' (or give this uplink its own mn)' : '') +
        ', or set version: "2005" if the platform runs HJ/T 212-2005',
    });
  });
}

/** The id that names an item of a list in error paths, e.g. devices[cod] rather than devices[1]. */
const ITEM_KEYS: Record<string, string> = {
  devices: 'id',
  buses: 'id',
  uplinks: 'id',
  facilities: 'code',
  factors: 'code',
  parameters: 'info',
};

function child(value: unknown, key: PropertyKey): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[key] : undefined;
}

/** `devices[cod].factors[w01018].value.type`: items by their id where they have one. */
export function issuePath(path: readonly PropertyKey[], input: unknown): string {
  let text = '';
  let value = input;
  let list: string | undefined;
  for (const key of path) {
    const item = child(value, key);
    if (typeof key === 'number') {
      const id = list && child(item, ITEM_KEYS[list] ?? '');
      text += typeof id === 'string' && id !== '' ? `[${id}]` : `[${key}]`;
    } else {
      text += text ? `.${String(key)}` : String(key);
    }
    list = typeof key === 'string' ? key : undefined;
    value = item;
  }
  return text;
}

/** Codes YAML reads as numbers unless quoted: they must stay text (and keep leading zeros). */
function quoteHint(key: string, value: unknown): string | undefined {
  if (typeof value !== 'number') return undefined;
  return (
    `${key}: ${value} is a number in YAML, and this is a code: quote it, ${key}: "${value}" ` +
    '(quotes also keep leading zeros)'
  );
}

/** The message of an issue as an integrator reads it: required fields, quoting, the fix. */
export function issueMessage(issue: z.core.$ZodIssue, input: unknown): string {
  const value = issue.path.reduce<unknown>((v, k) => child(v, k), input);
  const key = String(issue.path.at(-1) ?? '');
  if (issue.code === 'invalid_type' && value === undefined) {
    return `required: add ${key || 'it'} (${issue.expected === 'object' ? 'a block' : `a ${issue.expected}`})`;
  }
  if (issue.code === 'invalid_type' && issue.expected === 'string') {
    const hint = quoteHint(key, value);
    if (hint) return hint;
  }
  if (issue.code === 'invalid_value' && typeof value === 'number') {
    const options = issue.values.map(String);
    if (options.includes(String(value))) return quoteHint(key, value)!;
  }
  const choices = issue.code === 'invalid_value' ? issue.values.map((v) => JSON.stringify(v)).join(', ') : '';
  if (issue.code === 'invalid_value' && value === undefined) return `required: add ${key} (one of ${choices})`;
  if (issue.code === 'invalid_value') {
    return `${JSON.stringify(value)} is not allowed: use one of ${choices}`;
  }
  if (issue.code === 'invalid_union' && value === undefined) return `required: add ${key || 'it'}`;
  const fix = issue.code === 'unrecognized_keys' ? ' (check the spelling or remove it)' : '';
  return `${issue.message}${fix}`;
}

/**
 * What a configuration may run with but an integrator should know before leaving the site, as
 * `path: message` lines (`--check` prints them; the agent logs the first two when it starts).
 */
export function configWarnings(config: EdgeConfig): string[] {
  const out: string[] = [];
  const codes = config.devices.flatMap((d) => d.factors.map((f) => f.code));
  for (const u of config.uplinks) {
    const mn = u.mn ?? config.station.mn;
    if (u.pw === DEFAULT_PASSWORD)
      out.push(
        `uplinks[${u.id}].pw: ${DEFAULT_PASSWORD} is the field default password; ` +
          "ask the platform for the station's own",
      );
    if (u.version === '2005') {
      const missing = codes.filter((c) => !to2005Code(c));
      if (missing.length > 0)
        out.push(
          `uplinks[${u.id}].version: HJ/T 212-2005 has no code for ${missing.join(', ')}; they go out under their ` +
            '2017 code: ask the platform whether it takes them',
        );
    } else if (!MN_2017.test(mn)) {
      out.push(
        `uplinks[${u.id}]: MN ${mn} has the 14-character HJ/T 212-2005 form; ` +
          `a strict HJ 212-${u.version} platform expects 24 hex digits`,
      );
    }
  }
  // HJ 212-2025's 3022/3024 are carried out on 2025 uplinks only (docs/protocol-2025.md).
  if (!config.uplinks.some((u) => u.version === '2025'))
    for (const d of config.devices)
      for (const cn of ['3022', '3024'] as const)
        if (d.control?.[cn])
          out.push(
            `devices[${d.id}].control.${cn}: an HJ 212-2025 command, and no uplink has version "2025"; ` +
              'it is never carried out',
          );
  return out;
}
