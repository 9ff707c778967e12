import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './fixtures.js';

/**
 * A stand-in for the actions cache in the fast tier, with its rules (GitHub's, and act's artifactcache): entries are
 * immutable (a second save of a key fails), a restore takes an entry under exactly the key first, then the newest
 * whose key starts with the key or a restore key, and an entry is found only under the same paths (@actions/cache's
 * version). Anyone holding it can plant an entry, as any
 * job with ACTIONS_RUNTIME_TOKEN can on GitHub.
 */
export class DirCache {
  readonly root = tempDir('golden-image-dir-cache-');
  private readonly entries: { key: string; paths: string; dir: string }[] = [];
  readonly restores: { key: string; restoreKeys: string[]; hit?: string }[] = [];
  readonly saves: { key: string; saved: boolean }[] = [];

  async restore(paths: string[], key: string, restoreKeys: string[] = []): Promise<string | undefined> {
    const version = paths.join('|');
    const candidates = this.entries.filter((entry) => entry.paths === version);
    const exact = candidates.find((entry) => entry.key === key);
    const prefixed = [...candidates]
      .reverse()
      .find((entry) => [key, ...restoreKeys].some((prefix) => entry.key.startsWith(prefix)));
    const hit = exact ?? prefixed;
    this.restores.push({ key, restoreKeys, ...(hit ? { hit: hit.key } : {}) });
    if (!hit) return undefined;
    for (const [i, path] of paths.entries()) {
      rmSync(path, { recursive: true, force: true });
      mkdirSync(path, { recursive: true });
      cpSync(join(hit.dir, String(i)), path, { recursive: true });
    }
    return hit.key;
  }

  async save(paths: string[], key: string): Promise<boolean> {
    if (this.entries.some((entry) => entry.key === key)) {
      this.saves.push({ key, saved: false });
      return false;
    }
    this.plant(key, paths, (i) => paths[i] as string);
    this.saves.push({ key, saved: true });
    return true;
  }

  /** Saves an entry as another job would: the files of `from(i)` under `paths[i]`. */
  plant(key: string, paths: string[], from: (i: number) => string): void {
    const dir = join(this.root, String(this.entries.length));
    for (const i of paths.keys()) {
      const source = from(i);
      mkdirSync(join(dir, String(i)), { recursive: true });
      if (existsSync(source) && readdirSync(source).length > 0)
        cpSync(source, join(dir, String(i)), { recursive: true });
    }
    this.entries.push({ key, paths: paths.join('|'), dir });
  }

  keys(): string[] {
    return this.entries.map((entry) => entry.key);
  }
}
