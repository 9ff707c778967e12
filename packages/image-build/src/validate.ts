import { controlProblem, show } from '@golden-image/kit';

/**
 * Checks of build-oci's list entries. Each returns a problem (phrased to follow `Input "x": `) or undefined.
 * Multi-value inputs are newline-separated, so one entry can hold commas but never a newline.
 */

export { controlProblem };

const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/;

export function platformProblem(value: string): string | undefined {
  if (PLATFORM.test(value)) return undefined;
  return `${show(value)} is not a platform: use os/arch[/variant], for example linux/amd64 or linux/arm/v7`;
}

const ARG_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function buildArgProblem(value: string): string | undefined {
  const control = controlProblem(value);
  if (control) return control;
  const eq = value.indexOf('=');
  if (eq === -1) return `${show(value)} has no "=": write KEY=VALUE (one per line)`;
  const key = value.slice(0, eq);
  if (!ARG_KEY.test(key))
    return `${show(key)} is not a valid build-arg name: use letters, digits and "_", not starting with a digit`;
  return undefined;
}

export function labelProblem(value: string): string | undefined {
  const control = controlProblem(value);
  if (control) return control;
  const eq = value.indexOf('=');
  if (eq <= 0) return `${show(value)} is not KEY=VALUE (one label per line)`;
  if (/\s/.test(value.slice(0, eq))) return `label key ${show(value.slice(0, eq))} contains whitespace`;
  return undefined;
}

const ANNOTATION_TYPES = ['manifest', 'index', 'manifest-descriptor', 'index-descriptor'];

/** buildx's `[TYPE[PLATFORM],…:]KEY=VALUE`. Returns the parsed type prefix so buildah can refuse typed ones. */
export function parseAnnotation(value: string): { types: string[]; problem?: string } {
  const control = controlProblem(value);
  if (control) return { types: [], problem: control };
  const eq = value.indexOf('=');
  if (eq <= 0) return { types: [], problem: `${show(value)} is not [TYPE,…:]KEY=VALUE (one annotation per line)` };
  const head = value.slice(0, eq);
  const colon = head.indexOf(':');
  // A key may itself contain ":" (rare); only treat the prefix as types when every part names a known type.
  if (colon === -1) return { types: [] };
  const types = head.slice(0, colon).split(',');
  const known = types.every((t) => ANNOTATION_TYPES.includes(t.replace(/\[.*\]$/, '')));
  if (!known) return { types: [] };
  if (head.slice(colon + 1) === '') return { types, problem: `${show(value)} has no key after the type prefix` };
  return { types };
}

export function annotationProblem(value: string): string | undefined {
  return parseAnnotation(value).problem;
}

const SECRET_ID = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * `id=ID,src=PATH` or `id=ID,env=VAR` (buildx also accepts `source=` and `type=file|env`). A problem never shows
 * the entry: a caller used to build-push-action may have written a secret's value here (`TOKEN=s3cr3t`). It names
 * the id when there is a well-formed one, and says what was expected.
 */
export function parseSecret(value: string): { id?: string; src?: string; env?: string; problem?: string } {
  if (controlProblem(value)) return { problem: 'holds a control character; give one secret spec per line' };
  const example = 'write id=NAME,src=FILE or id=NAME,env=VARIABLE';
  const fields: Record<string, string> = {};
  for (const field of value.split(',')) {
    const eq = field.indexOf('=');
    const key = eq === -1 ? field : field.slice(0, eq);
    if (eq === -1 || !['id', 'type', 'src', 'source', 'env'].includes(key)) {
      const looksLikeValue = /^[A-Za-z0-9_.-]+=/.test(value) && !/(?:^|,)(?:id|src|source|env|type)=/.test(value);
      return {
        problem: looksLikeValue
          ? `is not a secret spec: it looks like ID=VALUE, the form of build-push-action's "secrets" (the line is not shown). Here ${example}; ` +
            'to pass a file, use the secret-files input (ID=FILE, as build-push-action takes it); the root action takes ID=VALUE lines as build-secrets and hands each value over in a private file'
          : `is not a secret spec (the line is not shown): ${example}`,
      };
    }
    fields[key === 'source' ? 'src' : key] = field.slice(eq + 1);
  }
  const { id, type, src, env } = fields;
  if (!id) return { problem: `has no id= (the line is not shown): ${example}` };
  const named = SECRET_ID.test(id) ? `secret ${show(id)}` : 'a secret';
  if (type !== undefined && type !== 'file' && type !== 'env') return { problem: `${named}: type must be file or env` };
  if ((src ? 1 : 0) + (env ? 1 : 0) !== 1) return { problem: `${named} needs exactly one of src= or env=: ${example}` };
  if (type === 'env' && src) return { id, env: src };
  if (type === 'file' && env) return { problem: `${named}: type=file needs src=, not env=` };
  return { id, src, env };
}

export function secretProblem(value: string): string | undefined {
  return parseSecret(value).problem;
}

/**
 * build-push-action's `secret-files`: ID=FILE, one per line (`MY_SECRET=./secret.txt`). Returns buildx's
 * `id=ID,src=FILE` spec, or a problem.
 */
export function parseSecretFile(value: string): { spec?: string; id?: string; file?: string; problem?: string } {
  const control = controlProblem(value);
  if (control) return { problem: control };
  const eq = value.indexOf('=');
  const id = eq === -1 ? '' : value.slice(0, eq).trim();
  const file = eq === -1 ? '' : value.slice(eq + 1).trim();
  if (!SECRET_ID.test(id) || file === '')
    return {
      problem: `${show(value)} is not ID=FILE (one per line, for example NPM_TOKEN=./npm-token.txt; the ID holds letters, digits, ".", "_" or "-")`,
    };
  if (file.includes(',') || file.includes('"'))
    return {
      problem: `${show(value)}: the file path holds a comma or quote, which buildx's --secret CSV cannot carry`,
    };
  return { spec: `id=${id},src=${file}`, id, file };
}

export function secretFileProblem(value: string): string | undefined {
  return parseSecretFile(value).problem;
}

/** `default`, or `ID[=SOCKET|KEY[,KEY…]]`: an SSH agent socket or keys for RUN --mount=type=ssh (buildx and buildah). */
export function sshProblem(value: string): string | undefined {
  const control = controlProblem(value);
  if (control) return control;
  if (/^[A-Za-z0-9_.-]+(?:=[^=]+)?$/.test(value) && !/^=|,$/.test(value)) return undefined;
  return `${show(value)} is not an SSH spec: write default (the runner's SSH agent, SSH_AUTH_SOCK) or ID=SOCKET_OR_KEY[,KEY…], one per line`;
}

/** `NAME=VALUE`: another build context (a directory, docker-image://…, https://…, oci-layout://…). */
export function buildContextProblem(value: string): string | undefined {
  const control = controlProblem(value);
  if (control) return control;
  const eq = value.indexOf('=');
  if (eq <= 0 || eq === value.length - 1)
    return `${show(value)} is not NAME=VALUE (one per line, for example alpine=docker-image://alpine:3.20 or src=./src)`;
  return undefined;
}

/** A build-context value that is a local directory (not docker-image://, https://, git@ and the like). */
export function isLocalContext(value: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && !/^git@/.test(value) && !value.startsWith('target:');
}

const CACHE_TYPES = ['registry', 'local', 'gha', 'inline', 's3', 'azblob'];

/** A BuildKit cache spec: CSV with a type= field (`type=gha,scope=app`, `type=registry,ref=…`). */
export function cacheProblem(value: string): string | undefined {
  const control = controlProblem(value);
  if (control) return control;
  const fields = value.split(',');
  if (fields.some((f) => !/^[a-z][a-z0-9_-]*=/.test(f))) {
    return `${show(value)} is not a cache spec: write comma-separated key=value pairs, for example type=gha,scope=app`;
  }
  const type = fields.find((f) => f.startsWith('type='))?.slice('type='.length);
  if (!type)
    return `${show(value)} has no type=: for example type=gha,scope=app or type=registry,ref=ghcr.io/owner/app:cache`;
  if (!CACHE_TYPES.includes(type))
    return `${show(value)}: cache type ${show(type)} is not one of ${CACHE_TYPES.join(', ')}`;
  return undefined;
}

/** `--provenance`/`--sbom`: true, false, or attestation parameters such as mode=max. */
export function attestProblem(value: string): string | undefined {
  const control = controlProblem(value);
  if (control) return control;
  if (/^(true|false|1|0)$/i.test(value)) return undefined;
  if (value.split(',').every((f) => /^[a-z][a-z0-9_-]*=[^,]*$/.test(f))) return undefined;
  return `${show(value)} must be true, false, or comma-separated parameters such as mode=max`;
}

/** Is an attestation turned on by this value? */
export function attestOn(value: string): boolean {
  return !/^(false|0)$/i.test(value);
}

/** The single-value `target`: any stage name reaches the tool as one argv entry; only control characters are refused. */
export function targetProblem(value: string): string | undefined {
  return controlProblem(value);
}
