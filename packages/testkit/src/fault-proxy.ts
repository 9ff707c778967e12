import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FaultKind = '500' | '502' | '503' | '429' | 'drop';

export interface FaultProxyOptions {
  /** Where to forward: the registry's port on 127.0.0.1. */
  targetPort: number;
  /** Probability in [0, 1] that a request is answered with a fault instead of being forwarded (default 0). */
  rate?: number;
  /**
   * Seed of the decisions. Each decision hashes (seed, method, path without query or upload id, how many times
   * that request was seen), so a seed fails the same requests however concurrent clients order them.
   */
  seed?: number;
  /** Relative weights of the fault kinds (default all 1). A kind with weight 0 is never chosen. */
  mix?: Partial<Record<FaultKind, number>>;
  /** Retry-After seconds sent with 429 (default 1). */
  retryAfter?: number;
}

/** A forwarded answer, whole, as `rewrite` sees it. */
export interface ProxiedAnswer {
  method: string;
  url: string;
  status: number;
  body: Buffer;
}

export type AnswerEdit = (answer: ProxiedAnswer) => { status?: number; body?: Buffer } | undefined;

export interface FaultProxy {
  /** `localhost:PORT`: the registry part of image names that should go through the proxy. */
  host: string;
  port: number;
  /** Faults injected so far, per kind. */
  readonly faults: Record<FaultKind, number>;
  /** Requests seen (forwarded or faulted). */
  readonly requests: number;
  /** Total faults injected. */
  injected(): number;
  /** Changes the random fault rate from now on. */
  setRate(rate: number): void;
  /** "down": every request is answered 503 (or dropped, with {drop: true}) until up() is called. */
  down(options?: { drop?: boolean }): void;
  up(): void;
  /**
   * Calls `decide` for every request before the random faults: return a kind to inject it, or undefined to
   * carry on. Used to interrupt a push after K uploads.
   */
  intercept(decide: ((method: string, url: string) => FaultKind | undefined) | undefined): void;
  /**
   * Calls `edit` with every forwarded answer: return another status and/or body (a registry that lies), or
   * undefined to pass it on unchanged. While set, answers are buffered and requests ask for no compression.
   */
  rewrite(edit: AnswerEdit | undefined): void;
  close(): Promise<void>;
}

const KINDS: FaultKind[] = ['500', '502', '503', '429', 'drop'];
/** Upper bound on concurrently open client sockets, so a runaway client cannot exhaust the test machine. */
const MAX_SOCKETS = 256;

/** Two numbers in [0, 1) derived from the seed and the request's identity. */
function draw(seed: number, key: string): [number, number] {
  const hash = createHash('sha256').update(`${seed}\n${key}`).digest();
  return [hash.readUInt32BE(0) / 2 ** 32, hash.readUInt32BE(4) / 2 ** 32];
}

/**
 * A loopback HTTP proxy in front of a test registry that answers a chosen share of requests with 5xx, 429 or a
 * dropped connection. The registry writes absolute `Location` URLs (its own host:port) into upload responses;
 * the proxy rewrites that one header so clients keep going through it. Nothing else is changed.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const seed = options.seed ?? 1;
  const seen = new Map<string, number>();
  const mix = KINDS.map((kind) => [kind, Math.max(0, options.mix?.[kind] ?? 1)] as const);
  const totalWeight = mix.reduce((sum, [, weight]) => sum + weight, 0);
  const faults: Record<FaultKind, number> = { '500': 0, '502': 0, '503': 0, '429': 0, drop: 0 };
  let rate = options.rate ?? 0;
  let isDown: false | { drop: boolean } = false;
  let interceptor: ((method: string, url: string) => FaultKind | undefined) | undefined;
  let editor: AnswerEdit | undefined;
  let requests = 0;
  const sockets = new Set<Socket>();
  const target = `127.0.0.1:${options.targetPort}`;
  let ownHost = '';

  const pick = (method: string, url: string): FaultKind | undefined => {
    const path = url.split('?')[0]?.replace(/\/uploads\/[^/]+$/, '/uploads/ID');
    const key = `${method} ${path}`;
    const nth = (seen.get(key) ?? 0) + 1;
    seen.set(key, nth);
    const [roll, share] = draw(seed, `${key} ${nth}`);
    let choice = share * totalWeight;
    if (roll >= rate || totalWeight === 0) return undefined;
    for (const [kind, weight] of mix) {
      choice -= weight;
      if (choice < 0) return kind;
    }
    return mix.findLast(([, weight]) => weight > 0)?.[0];
  };

  const inject = (kind: FaultKind, req: IncomingMessage, res: ServerResponse) => {
    faults[kind]++;
    if (kind === 'drop') {
      req.socket.destroy();
      return;
    }
    const headers: Record<string, string> = { 'content-type': 'application/json', connection: 'close' };
    if (kind === '429') headers['retry-after'] = String(options.retryAfter ?? 1);
    const code = kind === '429' ? 'TOOMANYREQUESTS' : 'UNAVAILABLE';
    res.writeHead(Number(kind), headers);
    res.end(JSON.stringify({ errors: [{ code, message: `injected fault ${kind}` }] }));
  };

  const server = createServer((req, res) => {
    requests++;
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const forced = isDown ? (isDown.drop ? 'drop' : '503') : interceptor?.(method, url);
    const kind = forced ?? pick(method, url);
    if (kind) {
      // Drain the body first so the client sees the answer rather than a write error on a half-sent upload.
      req.resume();
      if (kind === 'drop') inject(kind, req, res);
      else req.once('end', () => inject(kind, req, res));
      return;
    }
    const edit = editor;
    const forwarded = { ...req.headers, host: target };
    if (edit) delete forwarded['accept-encoding'];
    const upstream = request(
      { host: '127.0.0.1', port: options.targetPort, method, path: url, headers: forwarded },
      (answer) => {
        const headers = { ...answer.headers };
        if (typeof headers.location === 'string') headers.location = rewriteLocation(headers.location, target, ownHost);
        if (!edit) {
          res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
          answer.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const original = { method, url, status: answer.statusCode ?? 502, body: Buffer.concat(chunks) };
          const change = edit(original);
          const body = change?.body ?? original.body;
          delete headers['transfer-encoding'];
          delete headers.etag;
          headers['content-length'] = String(body.length);
          res.writeHead(change?.status ?? original.status, headers);
          res.end(body);
        });
      },
    );
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  });
  server.maxConnections = MAX_SOCKETS;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  ownHost = `localhost:${port}`;

  return {
    host: ownHost,
    port,
    faults,
    get requests() {
      return requests;
    },
    injected: () => Object.values(faults).reduce((sum, n) => sum + n, 0),
    setRate: (next) => {
      rate = next;
    },
    down: (how) => {
      isDown = { drop: how?.drop ?? false };
    },
    up: () => {
      isDown = false;
    },
    intercept: (decide) => {
      interceptor = decide;
    },
    rewrite: (edit) => {
      editor = edit;
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Points an absolute Location at the registry back at the proxy; relative ones pass unchanged. */
function rewriteLocation(location: string, target: string, proxy: string): string {
  const match = /^(https?:\/\/)([^/]+)(.*)$/.exec(location);
  if (!match) return location;
  const [, scheme, host, rest] = match;
  const port = target.split(':')[1];
  if (host === target || host === `localhost:${port}`) return `${scheme}${proxy}${rest}`;
  return location;
}
