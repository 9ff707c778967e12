// github/codeql-action/upload-sarif stand-in: the real action's checks of the SARIF, its category as
// automationDetails.id, its one-upload-per-category-and-tool-per-job rule, then the "upload": the combined SARIF
// copied to StandInConfig.sarifDir as <category with / as __>.sarif, with a .json of what code scanning would record.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { core, refuseUnimplemented, runStandIn } from '../../../lib/action.js';
import { standInConfig } from '../../../lib/config.js';

const IMPLEMENTED = ['sarif_file', 'checkout_path', 'category', 'wait-for-processing', 'matrix'] as const;

interface SarifRun {
  tool?: { driver?: { name?: string } };
  automationDetails?: { id?: string };
  results?: unknown[];
}

function sarifFiles(path: string): string[] {
  if (!existsSync(path)) throw new Error(`Path does not exist: ${path}`);
  if (!statSync(path).isDirectory()) return [path];
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.sarif') && !entry.name.endsWith('.quality.sarif')) found.push(full);
    }
  };
  walk(path);
  return found.sort();
}

function readRuns(file: string): { version: unknown; runs: SarifRun[] } {
  let log: { version?: unknown; runs?: unknown };
  try {
    log = JSON.parse(readFileSync(file, 'utf8')) as typeof log;
  } catch (error) {
    throw new Error(`Invalid SARIF. JSON syntax error: ${(error as Error).message}`);
  }
  if (!Array.isArray(log.runs)) throw new Error("Invalid SARIF. Missing 'runs' array.");
  for (const run of log.runs as SarifRun[]) {
    if (!Array.isArray(run.results)) throw new Error("Invalid SARIF. Missing 'results' array in run.");
  }
  if (log.version !== '2.1.0') {
    throw new Error(
      `Unable to upload "${file}" as it is not valid SARIF:\n- instance.version is not one of enum values: 2.1.0`,
    );
  }
  return { version: log.version, runs: log.runs as SarifRun[] };
}

const sanitize = (text?: string) => (text ?? '_').replace(/[^a-zA-Z0-9_]/g, '_').toLocaleUpperCase();

runStandIn('github/codeql-action/upload-sarif', async () => {
  refuseUnimplemented(IMPLEMENTED);
  const sarifPath = resolve(core.getInput('sarif_file', { required: true }));
  const checkoutPath = core.getInput('checkout_path', { required: true });
  const category = core.getInput('category') || undefined;
  const files = sarifFiles(sarifPath);
  if (files.length === 0) throw new Error(`No SARIF files found to upload in "${sarifPath}".`);
  const runs: SarifRun[] = [];
  for (const file of files) {
    core.info(`Validating ${file}`);
    runs.push(...readRuns(file).runs);
  }
  // The category (or, without one, this job) becomes each run's automationDetails.id unless the run has one.
  const automationId = category
    ? category.endsWith('/')
      ? category
      : `${category}/`
    : `${process.env.GITHUB_JOB ?? 'job'}/`;
  for (const run of runs) run.automationDetails ??= { id: automationId };

  const categories = new Map<string, { id?: string; tool?: string }>();
  for (const run of runs) {
    const id = run.automationDetails?.id;
    const tool = run.tool?.driver?.name;
    categories.set(`${sanitize(id)}_${sanitize(tool)}`, { id, tool });
  }
  for (const [key, { id, tool }] of categories) {
    const sentinel = `CODEQL_UPLOAD_SARIF_${key}`;
    if (process.env[sentinel]) {
      throw new Error(
        'Aborting upload: only one run of the codeql/analyze or codeql/upload-sarif actions is allowed per job per tool/category. ' +
          'The easiest fix is to specify a unique value for the `category` input. If .runs[].automationDetails.id is specified ' +
          'in the sarif file, that will take precedence over your configured `category`. ' +
          `Category: (${id ? id : 'none'}) Tool: (${tool ? tool : 'none'})`,
      );
    }
    core.exportVariable(sentinel, sentinel);
  }

  const sarifId = randomUUID();
  const dir = standInConfig().sarifDir;
  mkdirSync(dir, { recursive: true });
  const base = join(dir, automationId.replace(/\/$/, '').replaceAll('/', '__'));
  writeFileSync(`${base}.sarif`, `${JSON.stringify({ version: '2.1.0', runs }, null, 2)}\n`);
  writeFileSync(
    `${base}.json`,
    `${JSON.stringify(
      {
        sarifId,
        category: automationId,
        tools: [...categories.values()].map((entry) => entry.tool ?? null),
        files,
        checkoutPath,
        ref: process.env.GITHUB_REF,
        sha: process.env.GITHUB_SHA,
        repository: process.env.GITHUB_REPOSITORY,
        runId: process.env.GITHUB_RUN_ID,
        job: process.env.GITHUB_JOB,
      },
      null,
      2,
    )}\n`,
  );
  core.info(`Uploaded ${files.length} SARIF file(s) (${runs.length} run(s)) as ${base}.sarif; sarif-id ${sarifId}`);
  core.setOutput('sarif-id', sarifId);
  core.setOutput('sarif-ids', JSON.stringify({ 'code-scanning': sarifId }));
});
