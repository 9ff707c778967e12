// The stand-ins' view of the machine: the JSON file the harness wrote, whose absolute path esbuild baked into every
// bundle (`define: { STAND_IN_CONFIG: '"/abs/path.json"' }`). Nothing about the test machine comes from the job's env.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { StandInConfig } from '../../src/act/stand-in-config.js';

declare const STAND_IN_CONFIG: string;

let cached: { config: StandInConfig; key: Buffer } | undefined;

function load(): { config: StandInConfig; key: Buffer } {
  if (!cached) {
    const path = typeof STAND_IN_CONFIG === 'string' ? STAND_IN_CONFIG : '';
    if (!path) throw new Error('stand-in bundled without STAND_IN_CONFIG (bundleStandIns defines it)');
    const text = readFileSync(path, 'utf8');
    cached = { config: JSON.parse(text) as StandInConfig, key: createHash('sha256').update(text).digest() };
  }
  return cached;
}

export function standInConfig(): StandInConfig {
  return load().config;
}

/**
 * A secret only the stand-ins share (the hash of the config file, which the job's steps are never told the path of):
 * the credentials one stand-in mints (AWS session keys) are checked by another with it.
 */
export function standInKey(): Buffer {
  return load().key;
}
