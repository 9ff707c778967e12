import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';

export interface WaitOptions {
  /** The server's process: waiting stops at once when it exits. */
  child: ChildProcess;
  /** What "up" means, for the error: "listen on 127.0.0.1:5000", "serve …/rootCert". */
  up: string;
  timeoutMs: number;
  intervalMs?: number;
  /** The server's recent output, for the error. */
  output: () => string;
  /** Kill the child when it is not up in time (default true). */
  killOnTimeout?: boolean;
}

/**
 * The one wait-until-up loop of the test servers (registry, BuildKit, Fulcio, Verdaccio): asks `probe` until it
 * answers something other than undefined or false, and fails with the server's output when the process exits first
 * or the time is up.
 */
export async function waitUntilUp<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  options: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline) {
    if (options.child.exitCode !== null) {
      throw new Error(`${what} exited with ${options.child.exitCode}: ${options.output()}`);
    }
    const answer = await probe().catch(() => undefined);
    if (answer !== undefined && answer !== false) return answer;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
  if (options.killOnTimeout ?? true) options.child.kill('SIGKILL');
  throw new Error(`${what} did not ${options.up} within ${options.timeoutMs / 1000} s: ${options.output()}`);
}

/** Whether something accepts a connection on a loopback TCP port (of `address`) or a Unix socket path. */
export function accepts(target: number | string, address = '127.0.0.1'): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const connection = typeof target === 'number' ? connect(target, address) : connect(target);
    connection.once('connect', () => {
      connection.destroy();
      resolve(true);
    });
    connection.once('error', () => resolve(false));
  });
}

/** Stops a test server: SIGTERM, and SIGKILL when it has not exited after `killAfterMs` (when given). */
export function stopChild(child: ChildProcess, killAfterMs?: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.once('exit', () => {
      if (kill) clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
