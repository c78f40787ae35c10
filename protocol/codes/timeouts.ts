import type { TimeoutDef } from './types.js';

/**
 * Table 1: default timeout and retry count per link type. HJ/T 212-2005 also listed PSTN (5 s) and
 * SMS (短信, 30 s), both with 3 retries; 2017 dropped them.
 */
export const TIMEOUTS: readonly TimeoutDef[] = [
  { link: 'GPRS', timeoutS: 10, retries: 3 },
  { link: 'CDMA', timeoutS: 10, retries: 3 },
  { link: 'ADSL', timeoutS: 5, retries: 3 },
  { link: 'WCDMA', timeoutS: 10, retries: 3 },
  { link: 'TD-SCDMA', timeoutS: 10, retries: 3 },
  { link: 'CDMA2000', timeoutS: 10, retries: 3 },
  { link: 'PLC', timeoutS: 10, retries: 3 },
  { link: 'TD-LTE', timeoutS: 10, retries: 3 },
  { link: 'FDD-LTE', timeoutS: 10, retries: 3 },
  { link: 'WIMAX', timeoutS: 10, retries: 3 },
];

const byLink = new Map(TIMEOUTS.map((d) => [d.link, d]));

/** Case-insensitive because configurations spell links freely (WiMAX, gprs). */
export function defaultTimeout(link: string): TimeoutDef | undefined {
  return byLink.get(link.toUpperCase());
}
