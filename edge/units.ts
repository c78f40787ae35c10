import { factor } from '../protocol/index.js';

/**
 * Units: every factor leaves the edge in the unit of HJ 212-2017 appendix B (its table lists one per
 * code). An analyzer that reports another unit is declared in the configuration and its readings are
 * converted here, at reading time, before any statistic sees them. Pure functions only.
 */

/** Units an analyzer may report in, besides appendix B's own (which passes through unchanged). */
export const ANALYZER_UNITS = [
  'L/s',
  'm3/s',
  'm3/h',
  'ng/L',
  'ug/L',
  'mg/L',
  'ng/m3',
  'ug/m3',
  'mg/m3',
  'ppm',
  'Pa',
  'kPa',
  'hPa',
] as const;
export type AnalyzerUnit = (typeof ANALYZER_UNITS)[number];

/**
 * Each convertible unit as a multiple of its dimension's base (m3/s, mg/L, mg/m3, kPa). Appendix B
 * writes micro as μ; ug is accepted as its ASCII spelling.
 */
const SCALES: Record<string, { dimension: string; toBase: number }> = {
  'L/s': { dimension: 'flow', toBase: 1e-3 },
  'm3/s': { dimension: 'flow', toBase: 1 },
  'm3/h': { dimension: 'flow', toBase: 1 / 3600 },
  'ng/L': { dimension: 'mass per litre', toBase: 1e-6 },
  'μg/L': { dimension: 'mass per litre', toBase: 1e-3 },
  'ug/L': { dimension: 'mass per litre', toBase: 1e-3 },
  'mg/L': { dimension: 'mass per litre', toBase: 1 },
  'ng/m3': { dimension: 'mass per cubic metre', toBase: 1e-6 },
  'μg/m3': { dimension: 'mass per cubic metre', toBase: 1e-3 },
  'ug/m3': { dimension: 'mass per cubic metre', toBase: 1e-3 },
  'mg/m3': { dimension: 'mass per cubic metre', toBase: 1 },
  Pa: { dimension: 'pressure', toBase: 1e-3 },
  hPa: { dimension: 'pressure', toBase: 0.1 },
  kPa: { dimension: 'pressure', toBase: 1 },
};

/**
 * Molar masses (g/mol) for ppm (μmol/mol) → mg/m3 at standard conditions (273.15 K, 101.325 kPa):
 * C_mg/m3 = M / 22.4 × C_ppm, HJ 212-2017 D.2.1 eq. (20). NOx is expressed as NO2 (eq. 21-22).
 * Any other gas needs `molarMass` in its factor's configuration.
 */
export const MOLAR_MASSES: Readonly<Record<string, number>> = {
  a21026: 64.06, // SO2
  a21002: 46.01, // NOx as NO2
  a21003: 30.01, // NO
  a21004: 46.01, // NO2
  a21005: 28.01, // CO
  a05001: 44.01, // CO2
  a21001: 17.03, // NH3
  a21024: 36.46, // HCl
  a21028: 34.08, // H2S
  a21022: 70.9, // Cl2
};

/** Litres per mole of an ideal gas at 273.15 K and 101.325 kPa, as eq. (20) writes it. */
export const MOLAR_VOLUME_L = 22.4;

/** The unit appendix B gives `code` (B.1-B.3), in the symbols protocol/codes uses; undefined when it lists none. */
export function appendixBUnit(code: string): string | undefined {
  return factor(code)?.unit;
}

/** How to turn an analyzer's reading into appendix B's unit: value × factor. */
export interface Conversion {
  from: string;
  to: string;
  factor: number;
}

/**
 * The conversion of `code` read in `from` into appendix B's unit, or a sentence saying why there is
 * none (the config loader turns it into an error naming the factor).
 */
export function conversionFor(code: string, from: string, molarMass?: number): Conversion | string {
  const to = appendixBUnit(code);
  if (to === undefined) return `appendix B gives ${code} no unit, so a reading in ${from} cannot be converted`;
  if (from === to || (from === 'ug/L' && to === 'μg/L') || (from === 'ug/m3' && to === 'μg/m3'))
    return { from, to, factor: 1 };
  const target = SCALES[to];
  if (from === 'ppm') {
    const mass = molarMass ?? MOLAR_MASSES[code];
    if (target?.dimension !== 'mass per cubic metre')
      return `ppm converts to a mass per cubic metre, but appendix B gives ${code} in ${to}`;
    if (mass === undefined)
      return `no molar mass is known for ${code}: state molarMass (g/mol) to convert ppm to ${to}`;
    return { from, to, factor: mass / MOLAR_VOLUME_L / target.toBase };
  }
  const source = SCALES[from];
  if (!source || !target || source.dimension !== target.dimension)
    return `${from} cannot be converted to ${to}, the unit appendix B gives ${code}`;
  return { from, to, factor: source.toBase / target.toBase };
}

/** A reading in appendix B's unit. */
export function toAppendixB(value: number, conversion: Conversion): number {
  return value * conversion.factor;
}

/** Cubic metres per second of each flow unit, for volumes from a flow rate × seconds. */
export function flowToM3PerSecond(unit: string): number | undefined {
  const scale = SCALES[unit];
  return scale?.dimension === 'flow' ? scale.toBase : undefined;
}

/**
 * The unit `factor` is read in: its own `unit`, else station.flow.unit for the flow factor, else
 * appendix B's (undefined when appendix B lists none: the reading passes through as read).
 */
export function readingUnit(
  factor: { code: string; unit?: string | undefined },
  station: { flow?: { code: string; unit?: string | undefined } | undefined },
): string | undefined {
  if (factor.unit !== undefined) return factor.unit;
  if (station.flow?.code === factor.code && station.flow.unit !== undefined) return station.flow.unit;
  return appendixBUnit(factor.code);
}
