import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The unedited third-party outputs beside the project (see their SOURCES.md). */
export const THIRD_PARTY = fileURLToPath(new URL('../../../test/fixtures/third-party/', import.meta.url));

export function fixturePath(name: string): string {
  return `${THIRD_PARTY}${name}`;
}

export function fixtureText(name: string): string {
  return readFileSync(fixturePath(name), 'utf8');
}

export function fixtureJson(name: string): unknown {
  return JSON.parse(fixtureText(name));
}

export function fixtureFiles(dir: string): string[] {
  return readdirSync(fixturePath(dir)).sort();
}
