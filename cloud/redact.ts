/**
 * What of a URL may go into a log: never its user:password (an MQTT URL may carry them) nor its
 * query string (a refused `?token=` would be logged in full). Something that does not parse as a
 * URL keeps only what comes before any '?'.
 */
export function loggable(url: string): string {
  try {
    const u = new URL(url);
    if (u.username !== '' || u.password !== '') {
      u.username = '***';
      u.password = '';
    }
    u.search = '';
    u.hash = '';
    return u.toString();
  } catch {
    return url.split('?')[0]!;
  }
}

/** A request URL (a path) without its query string. */
export const pathOnly = (url: string): string => url.split('?')[0]!;
