import type { DataRecord, HistoryCn } from './aggregator.js';

/** Records a history answer reads from the store at once: what the answer holds in memory at most. */
export const HISTORY_PAGE = 100;

/** The store's history, read in pages by DataTime (keyset: each page starts after the last one's time). */
export interface HistoryPager {
  /** Up to `limit` records of `cn` with from ≤ DataTime ≤ to and DataTime > `after`, in DataTime order. */
  historyPage(cn: HistoryCn, from: number, to: number, after: number | undefined, limit: number): DataRecord[];
}

export interface StreamResult {
  sent: number;
  /** False when `send` said the link went down before the last page. */
  complete: boolean;
}

/**
 * Streams the records of cn in [from, to] through `send`, a page at a time: the next page is read
 * only once `send` resolved for the last one, and no page is kept after. `send` resolves false to stop.
 */
export async function streamHistory(
  query: { cn: HistoryCn; from: number; to: number },
  pager: HistoryPager,
  pageSize: number,
  send: (records: DataRecord[]) => Promise<boolean>,
): Promise<StreamResult> {
  let after: number | undefined;
  let sent = 0;
  for (;;) {
    const page = pager.historyPage(query.cn, query.from, query.to, after, pageSize);
    if (page.length === 0) return { sent, complete: true };
    after = page.at(-1)!.at;
    const more = await send(page);
    sent += page.length;
    if (!more) return { sent, complete: false };
    if (page.length < pageSize) return { sent, complete: true };
  }
}
