// Every third-party action the project's workflows pin, with the stand-in the workflow tier runs in its place
// (act --local-repository owner/repo@<sha>=<bundle of dir>). `dir` is relative to this folder and holds the stand-in
// as the repository's root would: action.yml at `<dir>/<subpath>/action.yml` (subpath '' for a root action).

export interface PinnedRef {
  sha: string;
  version: string;
}

export interface StandIn {
  repository: string;
  refs: PinnedRef[];
  dir: string;
  /** Actions inside the repository: '' for the root action.yml, 'upload-sarif' for github/codeql-action/upload-sarif. */
  actions: string[];
}

export const standIns: StandIn[] = [
  {
    repository: 'actions/checkout',
    refs: [{ sha: '11bd71901bbe5b1630ceea73d27597364c9af683', version: 'v4.2.2' }],
    dir: 'actions/checkout',
    actions: [''],
  },
  {
    repository: 'actions/upload-artifact',
    refs: [{ sha: 'ea165f8d65b6e75b540449e92b4886f43607fa02', version: 'v4.6.2' }],
    dir: 'actions/upload-artifact',
    actions: [''],
  },
  {
    repository: 'actions/download-artifact',
    refs: [{ sha: 'd3f86a106a0bac45b974a628896c90dbdf5c8093', version: 'v4.3.0' }],
    dir: 'actions/download-artifact',
    actions: [''],
  },
  {
    repository: 'actions/setup-node',
    refs: [{ sha: '49933ea5288caeca8642d1e84afbd3f7d6820020', version: 'v4.4.0' }],
    dir: 'actions/setup-node',
    actions: [''],
  },
  {
    repository: 'actions/setup-go',
    refs: [{ sha: 'd35c59abb061a4a6fb18e82ac0862c26744d6ab5', version: 'v5.5.0' }],
    dir: 'actions/setup-go',
    actions: [''],
  },
  {
    repository: 'docker/login-action',
    refs: [{ sha: '4907a6ddec9925e35a0a9e82d7399ccc52663121', version: 'v4.1.0' }],
    dir: 'docker/login-action',
    actions: [''],
  },
  {
    repository: 'docker/setup-buildx-action',
    refs: [{ sha: 'e468171a9de216ec08956ac3ada2f0791b6bd435', version: 'v3.11.1' }],
    dir: 'docker/setup-buildx-action/v3.11.1',
    actions: [''],
  },
  {
    repository: 'docker/setup-buildx-action',
    refs: [{ sha: '37fe631027851001ddb9b187196cc803df7f5f0e', version: 'v4.3.0' }],
    dir: 'docker/setup-buildx-action/v4.3.0',
    actions: [''],
  },
  {
    repository: 'docker/setup-qemu-action',
    refs: [{ sha: '29109295f81e9208d7d86ff1c6c12d2833863392', version: 'v3.6.0' }],
    dir: 'docker/setup-qemu-action',
    actions: [''],
  },
  {
    repository: 'docker/metadata-action',
    refs: [{ sha: 'dc802804100637a589fabce1cb79ff13a1411302', version: 'v6.2.0' }],
    dir: 'docker/metadata-action',
    actions: [''],
  },
  {
    repository: 'aws-actions/configure-aws-credentials',
    refs: [{ sha: 'e6de054238d6b7531b4efff3b6587d9aade6a06c', version: 'v6.2.3' }],
    dir: 'aws-actions/configure-aws-credentials',
    actions: [''],
  },
  {
    repository: 'aws-actions/amazon-ecr-login',
    refs: [{ sha: '03f1aad4c6c7ffd436567f42f9384779290529bd', version: 'v2.1.7' }],
    dir: 'aws-actions/amazon-ecr-login',
    actions: [''],
  },
  {
    repository: 'google-github-actions/auth',
    refs: [{ sha: '7c6bc770dae815cd3e89ee6cdf493a5fab2cc093', version: 'v3.0.0' }],
    dir: 'google-github-actions/auth',
    actions: [''],
  },
  {
    repository: 'github/codeql-action',
    refs: [{ sha: '8aad20d150bbac5944a9f9d289da16a4b0d87c1e', version: 'v4.36.2' }],
    dir: 'github/codeql-action',
    actions: ['upload-sarif'],
  },
];
