// Shared argv checking for tool doubles. A double declares the real tool's flags (TOOLS-CLI.md) and gets back the
// parsed flags and positionals, or the error message and exit code the real tool would print for bad argv.
import { appendFileSync } from 'node:fs';

/** A bad command line: `message` goes to stderr and the double exits with `code`. */
export class ArgvError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

/**
 * Flag spec: { name: { short?: 'f', type: 'bool'|'string'|'int'|'list'|'array'|'count', values?: [...] } }.
 * 'list' is a pflag string slice (comma-split, repeatable); 'array' repeats without splitting.
 * style 'pflag' (cobra: trivy, syft, cosign) or 'urfave' (osv-scanner: -flag and --flag alike).
 */
export function parseArgv(argv, spec, { style = 'pflag', errorCode = 1 } = {}) {
  const flags = {};
  const positionals = [];
  const shorts = new Map(
    Object.entries(spec)
      .filter(([, s]) => s.short)
      .map(([name, s]) => [s.short, name]),
  );
  const set = (name, raw, shown) => {
    const s = spec[name];
    if (s.type === 'bool') {
      if (raw === undefined || raw === 'true' || raw === '1') flags[name] = true;
      else if (raw === 'false' || raw === '0') flags[name] = false;
      else
        throw new ArgvError(
          badValue(style, raw, shown, `strconv.ParseBool: parsing "${raw}": invalid syntax`),
          errorCode,
        );
      return;
    }
    if (s.type === 'count') {
      flags[name] = (flags[name] ?? 0) + 1;
      return;
    }
    if (s.type === 'int') {
      if (!/^-?\d+$/.test(raw))
        throw new ArgvError(
          badValue(style, raw, shown, `strconv.ParseInt: parsing "${raw}": invalid syntax`),
          errorCode,
        );
      flags[name] = Number(raw);
      return;
    }
    const values = s.type === 'list' ? raw.split(',') : [raw];
    if (s.values) {
      for (const value of values) {
        const base = s.versioned ? value.split('@')[0] : value;
        if (!s.values.includes(base)) throw new ArgvError(enumError(name, value, s.values, style), errorCode);
      }
    }
    if (s.type === 'list' || s.type === 'array') flags[name] = [...(flags[name] ?? []), ...values];
    else flags[name] = raw;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    const long = style === 'urfave' ? /^--?([^-=][^=]*)(?:=(.*))?$/s.exec(arg) : /^--([^=]+)(?:=(.*))?$/s.exec(arg);
    if (long && (style === 'urfave' || arg.length > 2)) {
      let [, name, value] = long;
      if (style === 'urfave' && !spec[name] && shorts.has(name)) name = shorts.get(name);
      const s = spec[name];
      if (!s) throw new ArgvError(unknown(style, arg.split('=')[0]), errorCode);
      if (value === undefined && s.type !== 'bool' && s.type !== 'count') {
        if (i + 1 >= argv.length) throw new ArgvError(needsArgument(style, arg), errorCode);
        value = argv[++i];
      }
      set(name, value, `--${name}`);
      continue;
    }
    if (style === 'pflag' && /^-[^-]/.test(arg)) {
      // -abc: bools/counts combined, or -f value / -fvalue for the last one
      for (let j = 1; j < arg.length; j++) {
        const name = shorts.get(arg[j]);
        if (!name) throw new ArgvError(`Error: unknown shorthand flag: '${arg[j]}' in ${arg}`, errorCode);
        const s = spec[name];
        if (s.type === 'bool' || s.type === 'count') {
          set(name, undefined, `-${arg[j]}`);
          continue;
        }
        let value = arg.slice(j + 1);
        if (value.startsWith('=')) value = value.slice(1);
        if (value === '') {
          if (i + 1 >= argv.length)
            throw new ArgvError(`Error: flag needs an argument: '${arg[j]}' in -${arg[j]}`, errorCode);
          value = argv[++i];
        }
        set(name, value, `-${arg[j]}`);
        break;
      }
      continue;
    }
    positionals.push(arg);
  }
  return { flags, positionals };
}

function unknown(style, flag) {
  return style === 'urfave'
    ? `flag provided but not defined: -${flag.replace(/^-+/, '')}`
    : `Error: unknown flag: ${flag}`;
}
function needsArgument(style, flag) {
  return style === 'urfave' ? `flag needs an argument: ${flag}` : `Error: flag needs an argument: ${flag}`;
}
function badValue(style, raw, flag, why) {
  return style === 'urfave'
    ? `invalid value "${raw}" for flag ${flag}: ${why}`
    : `Error: invalid argument "${raw}" for "${flag}" flag: ${why}`;
}
function enumError(name, value, values, style) {
  if (style === 'urfave') return `unsupported ${name} "${value}" - must be one of: ${values.join(', ')}`;
  return `Error: invalid argument "${value}" for "--${name}" flag: must be one of ${values.join(', ')}`;
}

/** Appends one JSON line per invocation to $DOUBLE_LOG (when set), for tests to count and inspect calls. */
export function record(tool, data = {}) {
  const log = process.env.DOUBLE_LOG;
  if (!log) return;
  appendFileSync(log, `${JSON.stringify({ tool, argv: process.argv.slice(2), cwd: process.cwd(), ...data })}\n`);
}

/** Prints the message to stderr and exits with the code, the way a failing real tool does. */
export function die(message, code) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/** Runs `main`, turning an ArgvError into the real tool's message and exit code. */
export function run(main) {
  try {
    main();
  } catch (error) {
    if (error instanceof ArgvError) die(error.message, error.code);
    die(`double crashed: ${error?.stack ?? error}`, 99);
  }
}
