// docker/metadata-action stand-in: version, tags, labels, annotations, json and bake files as the real src/meta.ts
// computes them from the workflow context, for the tag types examples/workflows/from-build-push-action.yml uses
// (and raw, ref tag/pr); everything else is refused.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as semver from 'semver';
import { core, refuse, refuseUnimplemented, runStandIn } from '../../lib/action.js';
import { standInConfig } from '../../lib/config.js';

const IMPLEMENTED = ['images', 'tags', 'github-token'] as const;
const PRIORITY: Record<string, number> = { semver: 900, ref: 600, raw: 200, sha: 100 };

interface Tag {
  type: string;
  attrs: Record<string, string>;
}

interface Version {
  main: string | undefined;
  partial: string[];
  latest: boolean | undefined;
}

/** Util.getInputList(name, {ignoreComma: true, comment: '#'}): one entry a line, blank and # lines dropped. */
function inputList(name: string): string[] {
  return core
    .getInput(name)
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

function fields(line: string, input: string): string[] {
  if (line.includes('"')) refuse(input, `a quoted CSV entry (${line})`);
  return line
    .split(',')
    .map((field) => field.trim())
    .filter((field) => field !== '');
}

function images(): string[] {
  const lines = inputList('images');
  const names: string[] = [];
  for (const line of lines) {
    const parts = fields(line, 'images');
    if (parts.every((part) => !part.includes('='))) {
      if (lines.length === 1) names.push(...parts);
      else names.push(parts[0] ?? '');
      continue;
    }
    let name = '';
    let enable = true;
    for (const part of parts) {
      const [key = '', value = ''] = part.split('=').map((item) => item.trim());
      if (!part.includes('=')) name = part;
      else if (key.toLowerCase() === 'name') name = value;
      else if (key.toLowerCase() === 'enable') {
        if (!['true', 'false'].includes(value)) throw new Error(`Invalid enable attribute value: ${line}`);
        enable = value === 'true';
      } else throw new Error(`Unknown image attribute: ${key}`);
    }
    if (enable) names.push(name);
  }
  return names.map((name) => name.toLowerCase());
}

function parseTag(line: string): Tag {
  const tag: Tag = { type: 'raw', attrs: {} };
  let typed = false;
  for (const field of fields(line, 'tags')) {
    const at = field.indexOf('=');
    if (at < 0) {
      tag.attrs.value = field;
      continue;
    }
    const key = field.slice(0, at).trim().toLowerCase();
    const value = field.slice(at + 1).trim();
    if (key === 'type') {
      tag.type = value;
      typed = true;
    } else tag.attrs[key] = value;
  }
  if (!typed && tag.attrs.value === undefined) throw new Error(`Missing value attribute for ${line}`);
  if (!(tag.type in PRIORITY)) refuse('tags', `type=${tag.type}`);
  for (const [key, value] of Object.entries(tag.attrs)) {
    if (key !== 'pattern' && value.includes('{{')) refuse('tags', `the expression ${value} in ${key}`);
  }
  if (tag.type === 'semver') {
    if (tag.attrs.pattern === undefined) throw new Error(`Missing pattern attribute for ${line}`);
    const unsupported = (tag.attrs.pattern.match(/\{\{[^}]*\}\}/g) ?? []).filter(
      (part) => !['{{version}}', '{{major}}', '{{minor}}', '{{patch}}'].includes(part.replace(/\s/g, '')),
    );
    if (unsupported.length > 0) refuse('tags', `the pattern ${tag.attrs.pattern}`);
    tag.attrs.value ??= '';
    tag.attrs.match ??= '';
  } else if (tag.type === 'ref') {
    if (tag.attrs.event === undefined) throw new Error(`Missing event attribute for ${line}`);
    if (!['branch', 'tag', 'pr'].includes(tag.attrs.event)) throw new Error(`Invalid event for ${line}`);
    if (tag.attrs.event === 'pr' && tag.attrs.prefix === undefined) tag.attrs.prefix = 'pr-';
  } else if (tag.type === 'sha') {
    tag.attrs.prefix ??= 'sha-';
    tag.attrs.format ??= 'short';
    if (!['short', 'long'].includes(tag.attrs.format)) throw new Error(`Invalid format for ${line}`);
  }
  tag.attrs.enable ??= 'true';
  if (!['true', 'false'].includes(tag.attrs.enable))
    throw new Error(`Invalid value for enable attribute: ${tag.attrs.enable}`);
  tag.attrs.priority ??= String(PRIORITY[tag.type]);
  return tag;
}

function tags(): Tag[] {
  const lines = inputList('tags');
  // The default tags: type=schedule (a schedule event's nightly, not implemented) and type=ref for each event.
  if (lines.length === 0 && process.env.GITHUB_EVENT_NAME === 'schedule') refuse('tags', 'the default type=schedule');
  const list = (lines.length > 0 ? lines : ['type=ref,event=branch', 'type=ref,event=tag', 'type=ref,event=pr']).map(
    parseTag,
  );
  // Highest priority first; equal priorities keep their order (a stable sort, as the real one).
  return list.sort((a, b) => Number(b.attrs.priority) - Number(a.attrs.priority));
}

const sanitizeTag = (tag: string) => tag.replace(/[^a-zA-Z0-9._-]+/g, '-');

function shortSha(sha: string): string {
  const length = Number(process.env.DOCKER_METADATA_SHORT_SHA_LENGTH || 7);
  if (Number.isNaN(length)) {
    throw new Error(
      `DOCKER_METADATA_SHORT_SHA_LENGTH is not a valid number: ${process.env.DOCKER_METADATA_SHORT_SHA_LENGTH}`,
    );
  }
  return length >= sha.length ? sha : sha.slice(0, length);
}

function setValue(value: string, tag: Tag): string {
  return `${tag.attrs.prefix ?? ''}${value}${tag.attrs.suffix ?? ''}`;
}

function setVersion(version: Version, value: string, latest: boolean): void {
  if (value.length === 0) return;
  const clean = sanitizeTag(value);
  if (version.main === undefined) version.main = clean;
  else if (clean !== version.main) version.partial.push(clean);
  if (version.latest === undefined) version.latest = latest;
}

function computeVersion(list: Tag[], ref: string, sha: string): Version {
  const version: Version = { main: undefined, partial: [], latest: undefined };
  for (const tag of list) {
    if (tag.attrs.enable !== 'true') continue;
    if (tag.type === 'semver') {
      if (!ref.startsWith('refs/tags/') && !tag.attrs.value) continue;
      let raw = tag.attrs.value || ref.replace(/^refs\/tags\//, '');
      if (tag.attrs.match) {
        const matched = raw.match(tag.attrs.match);
        if (!matched) core.warning(`${tag.attrs.match} does not match ${raw}.`);
        else raw = matched[1] ?? raw;
      }
      raw = raw.replace(/\//g, '-');
      if (!semver.valid(raw)) {
        core.warning(`${raw} is not a valid semver. More info: https://semver.org/`);
        continue;
      }
      const parsed = semver.parse(raw, { loose: true }) as semver.SemVer;
      const render = (pattern: string) =>
        pattern.replace(
          /\{\{\s*(version|major|minor|patch)\s*\}\}/g,
          (_, key: 'version' | 'major' | 'minor' | 'patch') => String(parsed[key]),
        );
      // A prerelease gets {{version}} whatever the pattern, and never latest.
      const prerelease = semver.prerelease(raw) !== null;
      setVersion(version, setValue(render(prerelease ? '{{version}}' : (tag.attrs.pattern ?? '')), tag), !prerelease);
    } else if (tag.type === 'ref') {
      const event = tag.attrs.event;
      if (event === 'branch' && ref.startsWith('refs/heads/')) {
        setVersion(version, setValue(ref.replace(/^refs\/heads\//, ''), tag), false);
      } else if (event === 'tag' && ref.startsWith('refs/tags/')) {
        setVersion(version, setValue(ref.replace(/^refs\/tags\//, ''), tag), true);
      } else if (event === 'pr' && ref.startsWith('refs/pull/')) {
        setVersion(version, setValue(ref.replace(/^refs\/pull\//, '').replace(/\/merge$/, ''), tag), false);
      }
    } else if (tag.type === 'raw') {
      setVersion(version, setValue(tag.attrs.value ?? '', tag), false);
    } else if (tag.type === 'sha' && sha) {
      setVersion(version, setValue(tag.attrs.format === 'short' ? shortSha(sha) : sha, tag), false);
    }
  }
  version.partial = version.partial.filter((item, index) => version.partial.indexOf(item) === index);
  version.latest ??= false;
  return version;
}

runStandIn('docker/metadata-action', async () => {
  refuseUnimplemented(IMPLEMENTED);
  const env = process.env;
  const ref = env.GITHUB_REF ?? '';
  const sha = env.GITHUB_SHA ?? '';
  const repository = env.GITHUB_REPOSITORY ?? '';
  const repo = standInConfig().githubRepositories?.[repository] ?? {};
  const htmlUrl = `${env.GITHUB_SERVER_URL || 'https://github.com'}/${repository}`;
  core.startGroup('Context info');
  for (const [key, value] of [
    ['eventName', env.GITHUB_EVENT_NAME],
    ['sha', sha],
    ['ref', ref],
    ['workflow', env.GITHUB_WORKFLOW],
    ['action', env.GITHUB_ACTION],
    ['actor', env.GITHUB_ACTOR],
    ['runNumber', env.GITHUB_RUN_NUMBER],
    ['runId', env.GITHUB_RUN_ID],
  ]) {
    core.info(`${key}: ${value ?? ''}`);
  }
  core.endGroup();

  const names = images();
  const version = computeVersion(tags(), ref, sha);
  const date = new Date();
  const tagsOf = (imageName?: string): string[] => {
    if (!version.main) return [];
    const prefix = imageName ? `${imageName}:` : '';
    const list = [`${prefix}${version.main}`, ...version.partial.map((partial) => `${prefix}${partial}`)];
    if (version.latest) list.push(`${prefix}latest`);
    return list;
  };
  const allTags = names.length > 0 ? names.flatMap((name) => tagsOf(name)) : tagsOf();
  const labels = [
    `org.opencontainers.image.title=${repository.split('/')[1] ?? ''}`,
    `org.opencontainers.image.description=${repo.description ?? ''}`,
    `org.opencontainers.image.url=${htmlUrl}`,
    `org.opencontainers.image.source=${htmlUrl}`,
    `org.opencontainers.image.version=${version.main ?? ''}`,
    `org.opencontainers.image.created=${date.toISOString()}`,
    `org.opencontainers.image.revision=${sha}`,
    `org.opencontainers.image.licenses=${repo.license ?? ''}`,
  ].sort((a, b) => (a.split('=')[0] ?? '').localeCompare(b.split('=')[0] ?? ''));
  const labelMap = Object.fromEntries(
    labels.map((label) => [label.slice(0, label.indexOf('=')), label.slice(label.indexOf('=') + 1)]),
  );
  const levels = (env.DOCKER_METADATA_ANNOTATIONS_LEVELS || 'manifest').split(',');
  const annotations = levels.flatMap((level) => labels.map((label) => `${level}:${label}`));

  const setOutputs = !/^(false|0)$/i.test(env.DOCKER_METADATA_SET_OUTPUT_ENV ?? 'true');
  const output = (name: string, value: string) => {
    core.setOutput(name, value);
    if (setOutputs) core.exportVariable(`DOCKER_METADATA_OUTPUT_${name.replace(/\W/g, '_').toUpperCase()}`, value);
  };
  if (!version.main) core.warning('No Docker image version has been generated. Check tags input.');
  output('version', version.main ?? '');
  if (allTags.length === 0) core.warning('No Docker tag has been generated. Check tags input.');
  for (const tag of allTags) core.info(tag);
  output('tags', allTags.join('\n'));
  output('tag-names', tagsOf().join('\n'));
  output('labels', labels.join('\n'));
  output('annotations', annotations.join('\n'));
  output('json', JSON.stringify({ tags: allTags, 'tag-names': tagsOf(), labels: labelMap, annotations }));

  const runnerTemp = env.RUNNER_TEMP || tmpdir();
  mkdirSync(runnerTemp, { recursive: true });
  const bakeDir = mkdtempSync(join(runnerTemp, 'docker-actions-toolkit-'));
  const args = { DOCKER_META_IMAGES: names.join(','), DOCKER_META_VERSION: version.main };
  const bake = (target: Record<string, unknown>, suffix?: string) => {
    const file = join(bakeDir, `docker-metadata-action-bake${suffix ? `-${suffix}` : ''}.json`);
    writeFileSync(file, JSON.stringify({ target: { 'docker-metadata-action': target } }, null, 2));
    return file;
  };
  output('bake-file-tags', bake({ tags: allTags, args }, 'tags'));
  output('bake-file-labels', bake({ labels: labelMap }, 'labels'));
  output('bake-file-annotations', bake({ annotations }, 'annotations'));
  output('bake-file', bake({ tags: allTags, labels: labelMap, args }));
});
