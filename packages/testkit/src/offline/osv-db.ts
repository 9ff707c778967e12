import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import semver from 'semver';
import { repoRoot } from '../fixtures.js';

/** The OSV records kept as text in the repository (see its README.md). */
export const osvAdvisoriesDir = join(repoRoot, 'test', 'fixtures', 'advisories', 'osv');

export interface OfflineOsvDb {
  /** The directory to hand to scan-repo's osv-offline-db input. */
  dir: string;
  /** The variable this OSV-Scanner version reads the directory from, for running the tool by hand. */
  env: Record<string, string>;
  /** Ecosystem -> the all.zip written for it. */
  zips: Record<string, string>;
}

/**
 * Writes OSV-Scanner's offline database into `dir`: one `all.zip` of OSV records per ecosystem, in the layout the
 * given OSV-Scanner version reads. Up to 2.4 that is `<dir>/osv-scanner/<Ecosystem>/all.zip` named by
 * OSV_SCANNER_LOCAL_DB_CACHE_DIRECTORY; from 2.5.0 (matching moved into osv-scalibr) `<dir>/osv-scalibr/<Ecosystem>/all.zip`
 * named by OSV_SCALIBR_LOCAL_DB_CACHE_DIRECTORY. `ecosystems` adds empty zips, so every ecosystem a scanned tree holds
 * has one.
 */
export function offlineOsvDb(
  dir: string,
  options: { version?: string; records?: object[]; ecosystems?: string[] } = {},
): OfflineOsvDb {
  const scalibr = semver.gte(options.version ?? '2.6.0', '2.5.0');
  const records = options.records ?? readAdvisories();
  const byEcosystem = new Map<string, { name: string; data: Buffer }[]>();
  for (const ecosystem of options.ecosystems ?? []) byEcosystem.set(ecosystem, []);
  for (const record of records) {
    const { id, affected } = record as { id: string; affected?: { package?: { ecosystem?: string } }[] };
    const ecosystems = new Set((affected ?? []).map((a) => (a.package?.ecosystem ?? '').split(':')[0] as string));
    for (const ecosystem of ecosystems) {
      if (!ecosystem) continue;
      const entries = byEcosystem.get(ecosystem) ?? [];
      entries.push({ name: `${id}.json`, data: Buffer.from(JSON.stringify(record)) });
      byEcosystem.set(ecosystem, entries);
    }
  }
  const root = join(dir, scalibr ? 'osv-scalibr' : 'osv-scanner');
  const zips: Record<string, string> = {};
  for (const [ecosystem, entries] of byEcosystem) {
    mkdirSync(join(root, ecosystem), { recursive: true });
    zips[ecosystem] = join(root, ecosystem, 'all.zip');
    writeFileSync(zips[ecosystem], zip(entries));
  }
  const variable = scalibr ? 'OSV_SCALIBR_LOCAL_DB_CACHE_DIRECTORY' : 'OSV_SCANNER_LOCAL_DB_CACHE_DIRECTORY';
  return { dir, env: { [variable]: dir }, zips };
}

export function readAdvisories(advisoriesDir = osvAdvisoriesDir): object[] {
  return readdirSync(advisoriesDir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => JSON.parse(readFileSync(join(advisoriesDir, name), 'utf8')) as object);
}

/** A zip archive of deflated entries (PKZIP 2.0: local headers, central directory, end record; no zip64). */
export function zip(entries: { name: string; data: Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const fileName = Buffer.from(name, 'utf8');
    const deflated = deflateRawSync(data);
    const crc = crc32(data);
    // version needed 2.0, flags (bit 11: UTF-8 names), method 8 (deflate), DOS time/date 1980-01-01 00:00
    const common = (header: Buffer, at: number) => {
      header.writeUInt16LE(20, at);
      header.writeUInt16LE(0x0800, at + 2);
      header.writeUInt16LE(8, at + 4);
      header.writeUInt16LE(0, at + 6);
      header.writeUInt16LE(0x21, at + 8);
      header.writeUInt32LE(crc, at + 10);
      header.writeUInt32LE(deflated.length, at + 14);
      header.writeUInt32LE(data.length, at + 18);
      header.writeUInt16LE(fileName.length, at + 22);
    };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    common(local, 4);
    locals.push(local, fileName, deflated);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4); // version made by
    common(central, 6);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, fileName);
    offset += local.length + fileName.length + deflated.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
