/**
 * What an API base must be before any credential is sent to it: no user:password inside the
 * URL (they would be logged and retried against, and are never how NetSapiens authenticates),
 * and https unless the host is this machine or the operator has accepted clear text.
 */

/** Why `url` may not carry credentials, or undefined when it may. Never quotes the URL's password. */
export function apiBaseProblem(url: URL, allowInsecureHttp: boolean): string | undefined {
  if (url.username !== '' || url.password !== '') {
    return (
      'contains credentials (user:password@host); remove them from the URL and set NS_API_KEY, ' +
      'or NS_CLIENT_ID, NS_CLIENT_SECRET, NS_USERNAME and NS_PASSWORD'
    );
  }
  if (url.protocol === 'http:' && !allowInsecureHttp && !isLoopbackHost(url.hostname)) {
    return (
      `uses http:// to ${url.hostname}, which is not this machine: the API key or token would cross the network in clear. ` +
      'Use https://, or set NS_API_ALLOW_INSECURE=1 to send credentials over plain HTTP anyway'
    );
  }
  return undefined;
}

/** `localhost`, `*.localhost`, 127.0.0.0/8, ::1 and IPv4-mapped 127.x (as URL.hostname spells them). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
  if (h === '::1' || /^(?:0{0,4}:){7}0{0,3}1$/.test(h)) return true;
  return /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(h) || /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
