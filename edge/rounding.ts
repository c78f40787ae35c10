/**
 * Decimal rounding of values on the wire. HJ 212-2025 rounds statistics half to even ("四舍六入五成双",
 * GB/T 8170): 2.345 → 2.34, 2.355 → 2.36, 2.3451 → 2.35. It works on the decimal value a person would
 * write down, not on the binary double: the value is first cut to 15 significant digits, which removes
 * the noise of floating-point arithmetic (0.1 + 0.2 = 0.30000000000000004; a mean of 2.5 computed as
 * 2.4999999999999996), then rounded exactly in decimal.
 */

/** Digits and exponent of |value| cut to 15 significant digits: 2.675 → { digits: '267500000000000', exp: 0 }. */
function decimalDigits(value: number): { digits: string; exp: number } {
  const [mantissa, exponent] = Math.abs(value).toExponential(14).split('e') as [string, string];
  return { digits: mantissa.replace('.', ''), exp: Number(exponent) };
}

/** `value` with `decimals` decimals, ties to the even neighbour; the sign of a result that is zero is dropped. */
export function toFixedHalfEven(value: number, decimals: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return (0).toFixed(decimals);
  const { digits, exp } = decimalDigits(value);
  // Integer scaled by 10^decimals, as a digit string: keep = digits before the rounding position.
  const keepLength = exp + 1 + decimals;
  let kept: bigint;
  if (keepLength <= 0) {
    // Below half of the last unit unless exactly at it (keepLength 0 with a leading 5 and nothing else).
    const half = keepLength === 0 && /^5(0*)$/.test(digits);
    const above = keepLength === 0 && digits[0]! >= '5' && !half;
    kept = above ? 1n : 0n;
  } else {
    const head = digits.padEnd(keepLength, '0').slice(0, keepLength);
    const rest = digits.slice(keepLength);
    kept = BigInt(head);
    const first = rest[0] ?? '0';
    const beyond = /[1-9]/.test(rest.slice(1));
    if (first > '5' || (first === '5' && (beyond || kept % 2n === 1n))) kept += 1n;
  }
  const text = kept.toString().padStart(decimals + 1, '0');
  const int = text.slice(0, text.length - decimals);
  const frac = text.slice(text.length - decimals);
  const body = decimals > 0 ? `${int}.${frac}` : int;
  return value < 0 && kept !== 0n ? `-${body}` : body;
}
