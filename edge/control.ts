import { ExeRtn } from '../protocol/index.js';
import type { DataRecord } from './aggregator.js';
import type { ControlConfig, DeviceConfig, RegisterSpec, Verdict } from './config.js';
import { classifyModbusError } from './modbus-errors.js';
import { decodeRaw, decodeValue, encodeRegisters, registerWidth } from './registers.js';

/**
 * The analyzer control commands the edge can pass to an analyzer: 3011-3019 of HJ 212-2017 table 9 and
 * HJ 212-2025's 3022 (instant sample retention) and 3024 (start a standard check; docs/protocol-2025.md).
 */
export const CONTROL_CNS = [
  '3011',
  '3012',
  '3013',
  '3014',
  '3015',
  '3016',
  '3017',
  '3018',
  '3019',
  '3022',
  '3024',
] as const;
export type ControlCn = (typeof CONTROL_CNS)[number];

export const isControlCn = (cn: string): cn is ControlCn => (CONTROL_CNS as readonly string[]).includes(cn);

/** The control commands HJ 212-2025 adds: on a 2005 or 2017 link they are no command of the edition. */
export const CONTROL_CNS_2025: readonly string[] = ['3022', '3024'];

/** Commands a platform may send without PolId: C.34's 3015, and 3022/3024, when one device maps them. */
const WITHOUT_POLID: readonly string[] = ['3015', '3022', '3024'];

/** A standard check's result (3024), as read from the analyzer; the 2062 upload carries it. */
export interface StandardCheck {
  polId: string;
  /** The standard's value (StandardValue). */
  standard: number;
  /** The analyzer's reading of the standard (Check). */
  measured: number;
  /** Whether the analyzer says the check passed; unset where the config maps no such register. */
  passed?: boolean;
}

/** One Modbus operation on the analyzer's unit. */
export type ModbusAction =
  | { op: 'write-coil'; address: number; on: boolean }
  | { op: 'write-registers'; address: number; words: number[] }
  | { op: 'read'; function: 'holding' | 'input'; address: number; count: number };

/** The Modbus I/O control needs, on the analyzer's unit; the bus poller provides it (edge/modbus.ts). */
export interface ControlPort {
  run(action: ModbusAction): Promise<number[]>;
  /** Waits between two verdict reads; injected so tests do not wait. */
  sleep(ms: number): Promise<void>;
  now(): number;
}

/** What the 9012 says, and the fields of the upload (3015, 3017, 3018, 3019) that goes before it. */
export interface ControlResult {
  exeRtn: number;
  params?: Record<string, string>;
  /** `w01018-SN=…` (C.38) is a factor field of the analyzer's PolId. */
  factors?: Record<string, Record<string, string>>;
  /** Why it was not carried out, a stable code for logs. */
  reason?: string;
  /** 3024: the standard check's result, uploaded as 2062 through the outbox before the 9012. */
  check?: StandardCheck;
  /** The 2062 record the agent committed to the outboxes for `check`; the link sends the 9012 once it went up. */
  record?: DataRecord;
}

/**
 * The device whose factors include `polId`, or for 3015 (C.34), 3022 and 3024 without a PolId the one device
 * mapping it.
 */
export function controlDevice(
  devices: readonly DeviceConfig[],
  cn: string,
  polId: string | undefined,
): DeviceConfig | undefined {
  if (!isControlCn(cn)) return undefined;
  const mapping = devices.filter((d) => d.control?.[cn] !== undefined);
  if (polId === undefined) return WITHOUT_POLID.includes(cn) && mapping.length === 1 ? mapping[0] : undefined;
  return mapping.find((d) => d.factors.some((f) => f.code === polId));
}

/** A verdict register value as ExeRtn (HJ 212-2017 table 6); an unlisted value is a failure of unknown cause. */
export function verdictExeRtn(verdict: Verdict | undefined): number {
  switch (verdict) {
    case 'success':
      return ExeRtn.Success;
    case 'busy':
      return ExeRtn.Busy;
    case 'condition-error':
      return ExeRtn.BadCondition;
    default:
      return ExeRtn.Failed;
  }
}

/**
 * A failed Modbus request as ExeRtn: no answer is a communication timeout (4); exception 03 means the
 * analyzer refuses the value (3, condition error), 06 that it is busy (5); anything else a failure (2).
 */
export function modbusExeRtn(err: unknown): number {
  const failure = classifyModbusError(err);
  if (failure.kind === 'timeout') return ExeRtn.Timeout;
  if (failure.kind === 'exception' && failure.code === 3) return ExeRtn.BadCondition;
  if (failure.kind === 'exception' && failure.code === 6) return ExeRtn.Busy;
  return ExeRtn.Failed;
}

type Word = { address: number; type: 'int16' | 'uint16' | 'int32' | 'uint32'; function: 'holding' | 'input' } & {
  byteOrder: 'big' | 'little';
  wordOrder: 'big' | 'little';
};

const readOf = (w: Word): ModbusAction => ({
  op: 'read',
  function: w.function,
  address: w.address,
  count: registerWidth(w.type),
});
const writeOf = (w: Word, value: number): ModbusAction => ({
  op: 'write-registers',
  address: w.address,
  words: encodeRegisters(value, { ...w, scale: 1, offset: 0 }),
});
const valueOf = (w: Word, words: readonly number[]): number => decodeRaw(words, w.address, w);

/** CstartTime hhmmss (HJ 212-2017 §6.6.1, N6) as seconds since midnight; undefined if it is no time of day. */
export function startSeconds(text: string | undefined): number | undefined {
  const m = /^(\d{2})(\d{2})(\d{2})$/.exec(text ?? '');
  if (!m) return undefined;
  const [h, min, s] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return h < 24 && min < 60 && s < 60 ? h * 3600 + min * 60 + s : undefined;
}

const hhmmss = (seconds: number): string =>
  [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60]
    .map((n) => String(n).padStart(2, '0'))
    .join('');

/** What the analyzer writes as CstartTime: the decimal number hhmmss (143000) or seconds of the day. */
function startWord(seconds: number, format: 'hhmmss' | 'secondsOfDay'): number {
  return format === 'secondsOfDay' ? seconds : Number(hhmmss(seconds));
}
function startFromWord(value: number, format: 'hhmmss' | 'secondsOfDay'): number | undefined {
  if (format === 'secondsOfDay') return value < 86_400 ? value : undefined;
  return startSeconds(String(value).padStart(6, '0'));
}

/** The analyzer id registers as text: 4 hex digits each (EPC96, C.38), or 2 ASCII characters each. */
export function snText(words: readonly number[], encoding: 'hex' | 'ascii'): string {
  if (encoding === 'hex') return words.map((w) => w.toString(16).toUpperCase().padStart(4, '0')).join('');
  const bytes = Buffer.alloc(words.length * 2);
  words.forEach((w, i) => bytes.writeUInt16BE(w, i * 2));
  return bytes.toString('latin1').replace(/[\0 ]+$/, '');
}

/**
 * The Modbus writes a request asks for, before anything is sent: a trigger (3011-3015) or the sampling
 * period (3016). A 3016 whose CstartTime is no hhmmss or whose Ctime is not 0 < n ≤ 24 hours (§6.6.1)
 * is a condition error (ExeRtn 3) and writes nothing. Pure.
 */
export function planWrites(
  cn: ControlCn,
  control: ControlConfig,
  params: Record<string, string>,
): ModbusAction[] | { exeRtn: number; reason: string } {
  if (cn === '3016') {
    const c = control['3016'];
    if (!c) return { exeRtn: ExeRtn.BadCondition, reason: 'not-mapped' };
    const start = startSeconds(params['CstartTime']);
    // C.35's example spells it CTime, §6.6.1's field table Ctime: both are taken.
    const hoursText = params['CTime'] ?? params['Ctime'];
    const hours = hoursText !== undefined && /^\d{1,2}$/.test(hoursText) ? Number(hoursText) : undefined;
    if (start === undefined) return { exeRtn: ExeRtn.BadCondition, reason: 'bad-cstarttime' };
    if (hours === undefined || hours < 1 || hours > 24) return { exeRtn: ExeRtn.BadCondition, reason: 'bad-ctime' };
    return [writeOf(c.startTime, startWord(start, c.startTime.format)), writeOf(c.period, hours)];
  }
  if (cn === '3017' || cn === '3018' || cn === '3019') return [];
  const action = control[cn];
  if (!action) return { exeRtn: ExeRtn.BadCondition, reason: 'not-mapped' };
  const t = action.trigger;
  return 'coil' in t
    ? [{ op: 'write-coil', address: t.coil, on: true }]
    : [{ op: 'write-registers', address: t.register, words: [t.value] }];
}

type VerdictConfig = NonNullable<NonNullable<ControlConfig['3011']>['verdict']>;

/** Reads the verdict register until it says something other than running, or the timeout passes. */
async function awaitVerdict(verdict: VerdictConfig, port: ControlPort): Promise<{ exeRtn: number; reason?: string }> {
  const deadline = port.now() + verdict.timeoutSeconds * 1000;
  for (;;) {
    const [word = -1] = await port.run({ op: 'read', function: verdict.function, address: verdict.address, count: 1 });
    const said = verdict.values[String(word)];
    if (said !== 'running') {
      const exeRtn = verdictExeRtn(said);
      return exeRtn === ExeRtn.Success ? { exeRtn } : { exeRtn, reason: `analyzer-${said ?? `status-${word}`}` };
    }
    if (port.now() >= deadline) return { exeRtn: ExeRtn.Failed, reason: 'verdict-timeout' };
    await port.sleep(verdict.pollSeconds * 1000);
  }
}

/**
 * Carries out one control request on the analyzer (HJ 212-2017 C.30-C.38, HJ 212-2025 3022/3024): the writes,
 * then the verdict; or the reads of an upload (3017 CstartTime/CTime, 3018 Stime, 3019 PolId-SN; 3015 VaseNo;
 * 3024 the standard check's result).
 * Never throws: a Modbus failure becomes the ExeRtn the 9012 carries.
 */
export async function runControl(
  cn: ControlCn,
  polId: string,
  control: ControlConfig,
  params: Record<string, string>,
  port: ControlPort,
): Promise<ControlResult> {
  const writes = planWrites(cn, control, params);
  if (!Array.isArray(writes)) return writes;
  try {
    for (const action of writes) await port.run(action);
    const verdict = cn === '3017' || cn === '3018' || cn === '3019' ? undefined : control[cn]?.verdict;
    if (verdict) {
      const said = await awaitVerdict(verdict, port);
      if (said.exeRtn !== ExeRtn.Success) return said;
    }
    return { exeRtn: ExeRtn.Success, ...(await uploadFields(cn, polId, control, port)) };
  } catch (err) {
    return { exeRtn: modbusExeRtn(err), reason: 'modbus-failed' };
  }
}

async function uploadFields(
  cn: ControlCn,
  polId: string,
  control: ControlConfig,
  port: ControlPort,
): Promise<Pick<ControlResult, 'params' | 'factors' | 'exeRtn' | 'reason' | 'check'> | undefined> {
  switch (cn) {
    case '3015': {
      const vase = control['3015']?.vaseNo;
      // C.34: DataTime is when the sample was retained, which is now; VaseNo the bottle, where it is read.
      const params: Record<string, string> = {};
      if (vase) params['VaseNo'] = String(valueOf(vase, await port.run(readOf(vase))));
      return { exeRtn: ExeRtn.Success, params };
    }
    case '3017': {
      const c = control['3017']!;
      const start = startFromWord(valueOf(c.startTime, await port.run(readOf(c.startTime))), c.startTime.format);
      const hours = valueOf(c.period, await port.run(readOf(c.period)));
      if (start === undefined) return { exeRtn: ExeRtn.Failed, reason: 'analyzer-bad-cstarttime' };
      return { exeRtn: ExeRtn.Success, params: { PolId: polId, CstartTime: hhmmss(start), CTime: String(hours) } };
    }
    case '3018': {
      const s = control['3018']!.stime;
      return { exeRtn: ExeRtn.Success, params: { PolId: polId, Stime: String(valueOf(s, await port.run(readOf(s)))) } };
    }
    case '3024': {
      const result = control['3024']!.result;
      const value = async (spec: RegisterSpec) =>
        decodeValue(
          await port.run({
            op: 'read',
            function: spec.function,
            address: spec.address,
            count: registerWidth(spec.type),
          }),
          spec.address,
          spec,
        );
      const check: StandardCheck = {
        polId,
        standard: await value(result.standard),
        measured: await value(result.measured),
      };
      const passed = result.passed;
      if (passed) {
        const [word = -1] = await port.run({
          op: 'read',
          function: passed.function,
          address: passed.address,
          count: 1,
        });
        const said = passed.values[String(word)];
        if (said !== undefined) check.passed = said === 'pass';
      }
      return { exeRtn: ExeRtn.Success, check };
    }
    case '3019': {
      const sn = control['3019']!.sn;
      const words = await port.run({ op: 'read', function: sn.function, address: sn.address, count: sn.registers });
      return {
        exeRtn: ExeRtn.Success,
        params: { PolId: polId },
        factors: { [polId]: { SN: snText(words, sn.encoding) } },
      };
    }
    default:
      return undefined;
  }
}
