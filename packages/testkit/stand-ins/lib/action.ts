// What every stand-in does around its own work: run it and fail the step with ::error:: on any error, and refuse
// every input of its action.yml that it does not implement when the workflow sets it to anything but its default.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as core from '@actions/core';
import { parse } from 'yaml';
import { standInConfig } from './config.js';

export { core };

interface ActionYaml {
  inputs?: Record<string, { default?: unknown; required?: boolean } | null>;
}

/** The action.yml beside the bundle (act copies the stand-in's folder, action.yml included, into its action cache). */
export function actionYaml(): ActionYaml {
  return parse(readFileSync(join(__dirname, 'action.yml'), 'utf8')) as ActionYaml;
}

const secretish = /token|password|key|secret|credentials/i;

/** The values an input's default can take in this run ('any' for defaults the stand-in cannot know, e.g. matrix). */
export function acceptedDefaults(raw: unknown): string[] | 'any' {
  if (raw === undefined || raw === null) return [''];
  const text = String(raw);
  const expression = /^\$\{\{\s*(.*?)\s*\}\}$/.exec(text.trim())?.[1]?.replace(/\s+/g, ' ');
  if (expression === undefined) return [text];
  const token = standInConfig().githubToken ?? '';
  const env = process.env;
  switch (expression) {
    case 'github.token':
      return [token];
    case "github.server_url == 'https://github.com' && github.token || ''":
      return [token, ''];
    case 'github.repository':
      return [env.GITHUB_REPOSITORY ?? ''];
    case 'github.run_id':
      return [env.GITHUB_RUN_ID ?? ''];
    case 'github.workspace':
      return [env.GITHUB_WORKSPACE ?? ''];
    case 'toJson(matrix)':
      return 'any';
    default:
      throw new Error(`this stand-in cannot tell the value of the default ${text}`);
  }
}

export function isDefault(name: string, value: string): boolean {
  const spec = actionYaml().inputs?.[name];
  const accepted = acceptedDefaults(spec?.default);
  if (accepted === 'any') return true;
  const normal = (v: string) => (/^(true|false)$/i.test(v.trim()) ? v.trim().toLowerCase() : v.trim());
  return accepted.some((candidate) => normal(candidate) === normal(value));
}

export class Refused extends Error {}

/** Fails with a message naming the input: a workflow needs something of this action that the stand-in does not do. */
export function refuse(name: string, why: string): never {
  throw new Refused(`input '${name}': ${why} (the stand-in for ${standInName()} does not implement it)`);
}

let name = 'this action';
export function standInName(): string {
  return name;
}

/**
 * Every input of action.yml outside `implemented` must hold its default. Values are not printed when the input's
 * name says it may be a secret.
 */
export function refuseUnimplemented(implemented: readonly string[]): void {
  for (const input of Object.keys(actionYaml().inputs ?? {})) {
    if (implemented.includes(input)) continue;
    const value = core.getInput(input);
    if (isDefault(input, value)) continue;
    const shown = secretish.test(input) ? '' : ` ('${value}')`;
    refuse(input, `set to a value${shown} other than its default`);
  }
}

/** core.getBooleanInput's YAML 1.2 core schema booleans, with the action's name in the error. */
export function booleanInput(input: string): boolean {
  const value = core.getInput(input);
  if (/^(true|True|TRUE)$/.test(value)) return true;
  if (/^(false|False|FALSE)$/.test(value)) return false;
  throw new TypeError(
    `Input does not meet YAML 1.2 "Core Schema" specification: ${input}\nSupport boolean input list: \`true | True | TRUE | false | False | FALSE\``,
  );
}

/** Runs the stand-in's main or post; any error fails the step with ::error:: (core.setFailed). */
export function runStandIn(action: string, work: () => Promise<void>): void {
  name = action;
  work().catch((error: unknown) => {
    core.setFailed(error instanceof Error ? error.message : String(error));
  });
}
