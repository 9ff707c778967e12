// kit: the one door to tools (argv arrays, closed stdin, never a shell), the host environment tools may take,
// the step context the root action runs each action with, summaries that no value can break, and runAction.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import {
  type ActionContext,
  ExecRunner,
  HOST_ENV_NAMES,
  hostEnv,
  lastLines,
  maskSecretInputs,
  md,
  runAction,
  runChecked,
  stepContext,
  UserError,
} from '../src/index.js';

describe('ExecRunner', () => {
  const runner = new ExecRunner();

  test('argv goes to the tool as it is: no shell reads it', async () => {
    const result = await runner.run('printf', ['%s|', '$HOME', 'a b', '; echo hi'], { silent: true });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.toString()).toBe('$HOME|a b|; echo hi|');
  });

  test('stdin is closed: a tool that reads it gets end-of-file at once', async () => {
    const result = await runner.run('cat', [], { silent: true });
    expect(result).toMatchObject({ exitCode: 0, stderr: '' });
    expect(result.stdout.length).toBe(0);
  });

  test('the environment and working directory given are the whole of the child’s', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kit-runner-'));
    const result = await runner.run('sh', ['-c', 'echo "$ONLY:$' + '{HOME-unset}"; pwd'], {
      env: { PATH: process.env.PATH, ONLY: 'this' },
      cwd: dir,
      silent: true,
    });
    expect(result.stdout.toString().split('\n').slice(0, 2)).toEqual(['this:unset', dir]);
  });

  test('exit codes and signals come back; a missing tool is a UserError naming it', async () => {
    expect((await runner.run('sh', ['-c', 'echo oops >&2; exit 3'], { silent: true })).exitCode).toBe(3);
    expect((await runner.run('sh', ['-c', 'kill -TERM $$'], { silent: true })).exitCode).toBe(128 + 15);
    await expect(runner.run('golden-image-no-such-tool', [])).rejects.toThrow(
      /"golden-image-no-such-tool" was not found on PATH/,
    );
  });

  test('runChecked names the tool, the step and the tail of stderr', async () => {
    const script = join(mkdtempSync(join(tmpdir(), 'kit-runner-')), 'fail.sh');
    writeFileSync(script, 'for i in 1 2 3 4 5 6 7; do echo "line $i" >&2; done; exit 2\n');
    const failure = runChecked(runner, 'sh', [script], 'Pushing the layout', { silent: true });
    await expect(failure).rejects.toBeInstanceOf(UserError);
    await expect(failure).rejects.toThrow(
      /^Pushing the layout failed: sh exited with code 2: line 3\nline 4\nline 5\nline 6\nline 7$/,
    );
    expect(lastLines('\n\n')).toBe('(no output on stderr)');
    expect(lastLines('a\nb\nc', 2)).toBe('b\nc');
  });
});

describe('hostEnv', () => {
  test('keeps how to find programs, reach the network and trust TLS; nothing that configures a tool', () => {
    const job = { PATH: '/bin', HTTPS_PROXY: 'http://p', SSL_CERT_FILE: '/ca', TRIVY_SEVERITY: 'LOW', HOME: '/h' };
    expect(hostEnv(job)).toEqual({ PATH: '/bin', HTTPS_PROXY: 'http://p', SSL_CERT_FILE: '/ca' });
    expect(HOST_ENV_NAMES).not.toContain('HOME');
  });
});

function recordingContext(inputs: Record<string, string>) {
  const seen = { outputs: {} as Record<string, string>, secrets: [] as string[], logs: [] as string[] };
  const ctx: ActionContext = {
    input: (name) => inputs[name] ?? '',
    output: (name, value) => {
      seen.outputs[name] = value;
    },
    summary: async () => undefined,
    secret: (value) => seen.secrets.push(value),
    info: (message) => seen.logs.push(message),
    warning: () => undefined,
    error: () => undefined,
    group: (_name, fn) => fn(),
    runner: new ExecRunner(),
    env: {},
    tempDir: tmpdir(),
  };
  return { ctx, seen };
}

describe('contexts', () => {
  test('maskSecretInputs registers the given inputs that are set, trimmed', () => {
    const { ctx, seen } = recordingContext({ password: ' hunter2 ', token: '' });
    maskSecretInputs(ctx, 'password', 'token', 'absent');
    expect(seen.secrets).toEqual(['hunter2']);
  });

  test('stepContext: inputs from the step, outputs captured for the next, logs to the parent', () => {
    const parent = recordingContext({ image: 'parent-image' });
    const { ctx, outputs } = stepContext(parent.ctx, { image: 'step-image' });
    expect(ctx.input('image')).toBe('step-image');
    expect(ctx.input('unset')).toBe('');
    ctx.output('digest', 'sha256:1');
    ctx.info('hello');
    expect(outputs).toEqual({ digest: 'sha256:1' });
    expect(parent.seen.outputs).toEqual({});
    expect(parent.seen.logs).toEqual(['hello']);
  });
});

describe('md', () => {
  test('table cells cannot break the table', () => {
    expect(md.table(['a', 'b'], [['x|y', 'line\nbreak\\']])).toBe(
      '| a | b |\n| --- | --- |\n| x\\|y | line<br>break\\\\ |',
    );
  });

  test('a code span no value can close early', () => {
    expect(md.code('plain')).toBe('`plain`');
    expect(md.code('a `b` c')).toBe('``a `b` c``');
    expect(md.code('`edge`')).toBe('`` `edge` ``');
    expect(md.code('two\nlines')).toBe('`two lines`');
  });

  test('headings, facts and code blocks', () => {
    expect(md.heading('Title', 3)).toBe('### Title\n');
    expect(md.facts([['Digest', 'sha256:1']])).toBe('|  |  |\n| --- | --- |\n| Digest | sha256:1 |');
    expect(md.codeBlock('```inner```', 'sh')).toBe('````sh\n```inner```\n````\n');
  });
});

describe('runAction', () => {
  test('a UserError fails the step with its message; anything else is reported as a bug with its stack', async () => {
    const written: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    const before = process.exitCode;
    try {
      await runAction(async () => {
        throw new UserError('Input "digest": must be sha256');
      });
      expect(process.exitCode).toBe(1);
      await runAction(async () => {
        throw new TypeError('x is undefined');
      });
    } finally {
      process.stdout.write = write;
      process.exitCode = before;
    }
    const log = written.join('');
    expect(log).toContain('::error::Input "digest": must be sha256');
    expect(log).toMatch(
      /::error::Unexpected error \(a bug in golden-image; please report it with this log\): TypeError: x is undefined/,
    );
  });
});
