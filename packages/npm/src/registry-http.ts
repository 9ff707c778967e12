import { HttpClient } from '@actions/http-client';
import { show } from '@golden-image/kit';

export interface HttpAnswer {
  status: number;
  body: Buffer;
}

/** A request that never got an HTTP answer (refused, reset, timed out). */
export class NetworkError extends Error {
  override name = 'NetworkError';
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Problem with a registry URL input, or undefined. Tokens never travel over plain HTTP except to this machine. */
export function registryProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `must be the registry's URL, such as https://registry.npmjs.org/, got ${show(value)}`;
  }
  if (url.username || url.password) return 'must not carry a user name or password (use the token input)';
  if (url.search || url.hash) return `must have no query or fragment, got ${show(value)}`;
  if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname)) {
    return `must be https (a token must not cross the network in clear text); plain http is allowed for 127.0.0.1 and localhost only, got ${show(value)}`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `must be an http(s) URL, got ${show(value)}`;
  return undefined;
}

/** The registry URL with a trailing slash, as npm keys it. */
export function registryUrl(value: string): URL {
  const url = new URL(value);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

/** `@scope/name` as the registry spells it in a path: `@scope%2fname`. */
export function escapedName(name: string): string {
  return name.startsWith('@') ? `@${encodeURIComponent(name.slice(1))}` : encodeURIComponent(name);
}

/**
 * Reads from an npm registry with the token npm would send: only to URLs under the registry's own URL (a
 * tarball served from another host gets no credentials). No retries here: callers decide what is transient.
 */
export class RegistryHttp {
  private readonly client = new HttpClient('golden-image-npm', [], {
    allowRetries: false,
    socketTimeout: 60_000,
    allowRedirects: true,
    maxRedirects: 5,
  });

  constructor(
    readonly registry: URL,
    private readonly token?: string,
  ) {}

  packumentUrl(name: string): string {
    return new URL(escapedName(name), this.registry).href;
  }

  async get(url: string, accept = 'application/json'): Promise<HttpAnswer> {
    return this.send('GET', url, null, { accept, 'cache-control': 'no-cache', ...this.auth(url) });
  }

  async post(url: string, body: string, headers: Record<string, string>): Promise<HttpAnswer> {
    return this.send('POST', url, body, { 'content-type': 'application/json', accept: 'application/json', ...headers });
  }

  private auth(url: string): Record<string, string> {
    if (!this.token) return {};
    const target = new URL(url);
    const underRegistry = target.origin === this.registry.origin && target.pathname.startsWith(this.registry.pathname);
    return underRegistry ? { authorization: `Bearer ${this.token}` } : {};
  }

  private async send(
    verb: string,
    url: string,
    body: string | null,
    headers: Record<string, string>,
  ): Promise<HttpAnswer> {
    try {
      const response = await this.client.request(verb, url, body, headers);
      const data = response.readBodyBuffer ? await response.readBodyBuffer() : Buffer.from(await response.readBody());
      return { status: response.message.statusCode ?? 0, body: data };
    } catch (error) {
      throw new NetworkError(`${verb} ${url}: ${(error as Error).message}`);
    }
  }
}

/** 429, 5xx and no answer at all are worth another try; 401, 403 and other 4xx are not. */
export function transientStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

/** A short description of an answer for error messages: status and the registry's own error text. */
export function describeAnswer(answer: HttpAnswer): string {
  let detail = '';
  try {
    const parsed = JSON.parse(answer.body.toString('utf8')) as { error?: unknown; message?: unknown };
    const text = parsed.error ?? parsed.message;
    if (typeof text === 'string') detail = `: ${text.slice(0, 200)}`;
  } catch {
    const text = answer.body.toString('utf8').replace(/\s+/g, ' ').trim();
    if (text.startsWith('<')) detail = ' (an HTML page)';
    else if (text) detail = `: ${text.slice(0, 120)}`;
  }
  return `HTTP ${answer.status}${detail}`;
}
