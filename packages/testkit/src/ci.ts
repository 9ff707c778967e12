const said = new Set<string>();

/**
 * For tests this machine cannot run (no root, no second filesystem): off CI it says why, once, and returns true so
 * the caller skips them; on CI (CI set) it throws, so CI fails instead of passing without them.
 */
export function skipOffCi(why: string): true {
  if (process.env.CI) throw new Error(`${why}: CI must run these tests, so this machine must allow them.`);
  if (!said.has(why)) {
    said.add(why);
    process.stdout.write(`skipping: ${why}\n`);
  }
  return true;
}
