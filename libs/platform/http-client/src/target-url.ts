/** A URL the client is willing to connect to, with the pieces node:http needs already extracted. */
export interface TargetUrl {
  readonly url: URL;
  /** Host name or IP literal, without the brackets WHATWG URL keeps around IPv6 literals. */
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  /** `user:password` from the URL, decoded, as node:http's `auth` option expects. */
  readonly auth?: string;
}

export type TargetUrlParse = { readonly ok: true; readonly target: TargetUrl } | { readonly ok: false; readonly message: string };

/** Parses a request URL, or a redirect `Location` relative to `base`. Only http and https are ever fetched. */
export function parseTargetUrl(text: string, base?: URL): TargetUrlParse {
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    return { ok: false, message: `not a valid URL: "${text}"` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, message: `unsupported URL scheme "${url.protocol.slice(0, -1)}": only http and https are allowed` };
  }
  const secure = url.protocol === 'https:';
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  let auth: string | undefined;
  if (url.username !== '' || url.password !== '') {
    try {
      auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    } catch {
      return { ok: false, message: 'the credentials in the URL are not valid percent-encoding' };
    }
  }
  return {
    ok: true,
    target: { url, host, port: url.port === '' ? (secure ? 443 : 80) : Number(url.port), secure, ...(auth === undefined ? {} : { auth }) },
  };
}

/** The URL to report back: credentials removed, because results end up in execution records and logs. */
export function redactedHref(url: URL): string {
  if (url.username === '' && url.password === '') return url.href;
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href;
}

