// Version rules of `npm run tools:real` (script/real-tools.ts), kept apart so the fast tier can test them.

/** The pinned version if the proxy serves it, else the nearest served one (the newest below it, else the oldest above). */
export function nearestVersion(pinned: string, served: string[]): string | undefined {
  if (served.includes(pinned)) return pinned;
  const key = (v: string) => v.replace(/^v/, '').split(/[.-]/).slice(0, 3).map(Number);
  const cmp = (a: string, b: string) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
    return 0;
  };
  const releases = served.filter((v) => /^v\d+\.\d+\.\d+$/.test(v)).sort(cmp);
  const below = releases.filter((v) => cmp(v, pinned) < 0);
  return below.at(-1) ?? releases.find((v) => cmp(v, pinned) > 0);
}

/**
 * Why the pinned version cannot be built, or undefined: the proxy must serve exactly the pinned release. Building
 * the nearest one instead would make the real tier pass with a version users never run, so it is an error that
 * names the nearest served version to move the pin to.
 */
export function substitutionProblem(bin: string, module: string, pinned: string, served: string[]): string | undefined {
  if (served.includes(pinned)) return undefined;
  const nearest = nearestVersion(pinned, served);
  if (!nearest) return `${bin}: the Go module proxy serves no release of ${module}`;
  return (
    `${bin}: pinned ${pinned.replace(/^v/, '')}, but the Go module proxy does not serve ${module}@${pinned}; ` +
    `nothing was built. Move the pin (packages/tools/src/pins.ts or script/real-tools/catalogue.ts) to a served ` +
    `version such as ${nearest.replace(/^v/, '')}, with its SHA-256s, so users run the version the real tier runs.`
  );
}

/** The replace and exclude lines of a go.mod (single lines and blocks), without local-path replacements. */
export function upstreamDirectives(goMod: string): string {
  const out: string[] = [];
  const lines = goMod.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]?.trim() ?? '';
    const block = /^(replace|exclude)\s*\($/.exec(line);
    if (block) {
      const body: string[] = [];
      for (i++; i < lines.length && lines[i]?.trim() !== ')'; i++) {
        const entry = lines[i]?.trim() ?? '';
        if (entry && !entry.startsWith('//') && !/=>\s*\.{0,2}\//.test(entry)) body.push(`\t${entry}`);
      }
      if (body.length) out.push(`${block[1]} (\n${body.join('\n')}\n)`);
    } else if (/^(replace|exclude)\s/.test(line) && !/=>\s*\.{0,2}\//.test(line)) {
      out.push(line);
    }
  }
  return out.join('\n');
}
