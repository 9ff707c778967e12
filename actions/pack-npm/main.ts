import { existsSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import {
  type ActionContext,
  booleanInput,
  inputProblem,
  md,
  optionalString,
  parseInputs,
  UserError,
} from '@golden-image/kit';
import { holdsIdToken, packDirectory } from '@golden-image/npm';

export const inputs = {
  path: optionalString(),
  'lifecycle-scripts': booleanInput(true),
};

/** One `npm pack`, whose tarball is proven to be the one npm described, handed on by path and integrity. */
export async function main(ctx: ActionContext): Promise<void> {
  const input = parseInputs(inputs, ctx.input);
  const workspace = resolve(ctx.env.GITHUB_WORKSPACE || process.cwd());
  const dir = resolve(workspace, input.path ?? '.');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UserError(
      inputProblem('path', `${dir} is not a directory; give the package directory (with package.json)`),
    );
  }
  if (input['lifecycle-scripts'] && (await holdsIdToken(ctx.env))) {
    // A script's environment can be emptied, but it can still read its parent's (/proc/<ppid>/environ).
    throw new UserError(
      inputProblem(
        'lifecycle-scripts',
        "is true in a job that holds id-token: write: the package's own scripts could mint this job's OIDC token. Pack in a job without id-token: write (npm-publish.yml's pack job), or set lifecycle-scripts: false",
      ),
    );
  }
  const packed = await ctx.group('npm pack', () => packDirectory(ctx, { dir, scripts: input['lifecycle-scripts'] }));
  ctx.output('tarball-path', packed.tarballPath);
  ctx.output('integrity', packed.integrity);
  ctx.output('shasum', packed.shasum);
  ctx.output('name', packed.name);
  ctx.output('version', packed.version);
  ctx.output('files', JSON.stringify(packed.files));
  ctx.info(
    `Packed ${packed.name}@${packed.version}: ${packed.integrity} (${packed.files.length} files, ${packed.size} bytes).`,
  );
  await ctx.summary(
    [
      md.heading(`pack-npm: ${md.code(`${packed.name}@${packed.version}`)}`),
      md.facts([
        ['Package directory', md.code(relative(workspace, dir) || '.')],
        ['Tarball', md.code(packed.tarballPath)],
        ['integrity', md.code(packed.integrity)],
        ['shasum', md.code(packed.shasum)],
        ['Size', `${packed.size} bytes packed, ${packed.unpackedSize} unpacked`],
        [
          'Lifecycle scripts',
          input['lifecycle-scripts'] ? 'run (prepublishOnly, prepack, prepare, postpack)' : 'not run',
        ],
      ]),
      '',
      `<details><summary>${packed.files.length} files</summary>\n\n${packed.files.map((file) => `- ${md.code(file)}`).join('\n')}\n\n</details>\n`,
    ].join('\n'),
  );
}
