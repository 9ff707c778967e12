// actions/checkout stand-in: fetches from the local git repository config.repositories names for owner/repo, with
// real git, into a real work tree whose HEAD is the commit the real action would check out.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { booleanInput, core, refuseUnimplemented, runStandIn } from '../../lib/action.js';
import { standInConfig } from '../../lib/config.js';
import { run } from '../../lib/exec.js';

const IMPLEMENTED = [
  'repository',
  'ref',
  'path',
  'persist-credentials',
  'fetch-depth',
  'fetch-tags',
  'clean',
  'show-progress',
  'set-safe-directory',
] as const;

runStandIn('actions/checkout', async () => {
  refuseUnimplemented(IMPLEMENTED);
  const env = process.env;
  const workspace = resolve(env.GITHUB_WORKSPACE ?? process.cwd());
  const repository = core.getInput('repository') || env.GITHUB_REPOSITORY || '';
  const [owner, name, ...rest] = repository.split('/');
  if (!owner || !name || rest.length > 0) {
    throw new Error(`Invalid repository '${repository}'. Expected format {owner}/{repo}.`);
  }
  const repositoryPath = resolve(workspace, core.getInput('path') || '.');
  if (!`${repositoryPath}${sep}`.startsWith(`${workspace}${sep}`)) {
    throw new Error(`Repository path '${repositoryPath}' is not under '${workspace}'`);
  }
  const fetchDepthInput = Math.floor(Number(core.getInput('fetch-depth') || '1'));
  const fetchDepth = Number.isNaN(fetchDepthInput) || fetchDepthInput < 0 ? 0 : fetchDepthInput;
  const fetchTags = booleanInput('fetch-tags');
  const persist = booleanInput('persist-credentials');
  const clean = booleanInput('clean');

  const sources = standInConfig().repositories;
  const sourceKey = Object.keys(sources).find((key) => key.toLowerCase() === repository.toLowerCase());
  const serverUrl = env.GITHUB_SERVER_URL || 'https://github.com';
  if (!sourceKey) {
    core.info('remote: Repository not found.');
    throw new Error(
      `fatal: repository '${serverUrl}/${repository}/' not found (the stand-in knows ${Object.keys(sources).join(', ') || 'no repository'}; config.repositories)`,
    );
  }
  const url = `file://${resolve(sources[sourceKey] as string)}`;
  const uploadPack = 'git -c uploadpack.allowAnySHA1InWant=true upload-pack';
  const remote = (args: string[]) => run('git', [...args], { check: false });
  const git = (args: string[]) => run('git', ['-C', repositoryPath, ...args]).stdout.trim();

  // The ref and commit, as the real input helper settles them.
  const isWorkflowRepository = repository.toUpperCase() === (env.GITHUB_REPOSITORY ?? '').toUpperCase();
  let ref = core.getInput('ref');
  let commit = '';
  if (!ref) {
    if (isWorkflowRepository) {
      ref = env.GITHUB_REF ?? '';
      commit = env.GITHUB_SHA ?? '';
      if (commit && ref && !ref.startsWith('refs/')) ref = `refs/heads/${ref}`;
    }
  } else if (/^[0-9a-fA-F]{40}$/.test(ref)) {
    commit = ref.toLowerCase();
    ref = '';
  }
  const advertised = remote(['ls-remote', '--symref', url]);
  if (advertised.status !== 0) throw new Error(`git ls-remote ${url} failed: ${advertised.stderr.trim()}`);
  const refs = new Map<string, string>();
  let defaultBranch = '';
  for (const line of advertised.stdout.split('\n')) {
    const symref = /^ref: (refs\/heads\/\S+)\tHEAD$/.exec(line);
    if (symref?.[1]) defaultBranch = symref[1];
    const [oid, refName] = line.split('\t');
    if (oid && refName && /^[0-9a-f]{40}$/.test(oid)) refs.set(refName, oid);
  }
  if (!ref && !commit) {
    if (!defaultBranch) throw new Error(`Unable to determine the default branch of ${repository}`);
    ref = defaultBranch;
    core.info(`Determining the default branch: ${ref}`);
  }
  // An unqualified ref resolves to a branch first, then a tag (the real action's +refs/heads/x* and +refs/tags/x*).
  let qualified = ref;
  if (ref && !ref.startsWith('refs/')) {
    if (refs.has(`refs/heads/${ref}`)) qualified = `refs/heads/${ref}`;
    else if (refs.has(`refs/tags/${ref}`)) qualified = `refs/tags/${ref}`;
    else if (!commit) throw new Error(`A branch or tag with the name '${ref}' could not be found`);
  }

  // The directory: emptied unless it already holds this repository (then cleaned, as with clean: true).
  mkdirSync(repositoryPath, { recursive: true });
  if (existsSync(resolve(repositoryPath, '.git'))) {
    if (clean) {
      git(['clean', '-ffdx']);
      run('git', ['-C', repositoryPath, 'reset', '--hard', 'HEAD'], { check: false });
    }
  } else {
    const entries = readdirSync(repositoryPath);
    if (entries.length > 0) core.info(`Deleting the contents of '${repositoryPath}'`);
    for (const entry of entries) rmSync(resolve(repositoryPath, entry), { recursive: true, force: true });
    run('git', ['init', '-q', repositoryPath]);
    git(['remote', 'add', 'origin', url]);
  }
  if (booleanInput('set-safe-directory')) {
    run('git', ['config', '--global', '--add', 'safe.directory', repositoryPath]);
  }

  const refspecs: string[] = [];
  if (fetchDepth <= 0) refspecs.push('+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*');
  const branch = qualified.startsWith('refs/heads/') ? qualified.slice('refs/heads/'.length) : '';
  const tag = qualified.startsWith('refs/tags/') ? qualified : '';
  if (commit) {
    if (branch) refspecs.push(`+${commit}:refs/remotes/origin/${branch}`);
    else if (tag) refspecs.push(`+${commit}:${tag}`);
    else refspecs.push(commit);
  } else if (branch) {
    refspecs.push(`+${qualified}:refs/remotes/origin/${branch}`);
  } else if (tag) {
    refspecs.push(`+${qualified}:${qualified}`);
  } else {
    refspecs.push(`+${qualified}:${qualified}`);
  }
  const fetchArgs = [
    '-c',
    'protocol.version=2',
    'fetch',
    `--upload-pack=${uploadPack}`,
    '--prune',
    '--no-recurse-submodules',
  ];
  if (fetchDepth > 0) fetchArgs.push(`--depth=${fetchDepth}`);
  if (fetchDepth > 0 && !fetchTags) fetchArgs.push('--no-tags');
  if (!booleanInput('show-progress')) fetchArgs.push('--quiet');
  const fetched = run('git', ['-C', repositoryPath, ...fetchArgs, 'origin', ...refspecs], { check: false });
  if (fetched.status !== 0) {
    core.info(fetched.stderr.trim());
    throw new Error(`The process '/usr/bin/git' failed with exit code ${fetched.status}`);
  }

  if (branch) git(['checkout', '--progress', '--force', '-B', branch, `refs/remotes/origin/${branch}`]);
  else git(['checkout', '--progress', '--force', commit || qualified]);
  const head = git(['log', '-1', '--format=%H']);
  if (commit && head !== commit) throw new Error(`checked out ${head}, not the requested commit ${commit}`);

  if (persist) {
    const token = core.getInput('token');
    if (token) {
      const header = `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
      core.setSecret(Buffer.from(`x-access-token:${token}`).toString('base64'));
      git(['config', '--local', `http.${serverUrl}/.extraheader`, header]);
    }
  }
  core.saveState('repositoryPath', repositoryPath);
  core.saveState('serverUrl', serverUrl);
  core.setOutput('ref', ref);
  core.setOutput('commit', head);
  core.info(`Checked out ${repository} ${ref || commit} at ${head} into ${repositoryPath}`);
});
