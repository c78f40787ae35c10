/**
 * The WHERE clause the state stores' lists share: the stations an account sees (a set of MNs, bound as one
 * JSON array so the statement stays one prepared shape however many there are) and a state column.
 */
export const MN_IN = 'mn IN (SELECT value FROM json_each(?))';

/** `WHERE mn IN (...) AND state = ?` of what is given, with its arguments; an empty clause for no filter. */
export function listFilter(f: { mns?: readonly string[] | undefined; state?: string | undefined }): {
  cond: string;
  args: string[];
} {
  const where: string[] = [];
  const args: string[] = [];
  if (f.mns !== undefined) {
    where.push(MN_IN);
    args.push(JSON.stringify(f.mns));
  }
  if (f.state !== undefined) {
    where.push('state = ?');
    args.push(f.state);
  }
  return { cond: where.length ? `WHERE ${where.join(' AND ')}` : '', args };
}
