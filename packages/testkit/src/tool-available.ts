import { execFileSync } from 'node:child_process';

/**
 * Whether a real tool the tests use is installed. Off CI a missing tool skips its tests; on CI (CI=true, where
 * .ci/run installs it) a missing tool is an error, so a test that should run can never quietly skip.
 */
export function toolAvailable(command: string, args: string[] = ['--version']): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI) throw new Error(`${command} is not installed, and CI must run the tests that need it.`);
    return false;
  }
}
