import * as core from '@actions/core';
import { type ActionContext, createActionsContext } from './context.js';
import { UserError } from './errors.js';

/** The entry point of every bundled action: runs main and turns its failure into a failed step with exit code 1. */
export async function runAction(main: (ctx: ActionContext) => Promise<void>): Promise<void> {
  try {
    await main(createActionsContext());
  } catch (error) {
    if (error instanceof UserError) {
      core.setFailed(error.message);
    } else {
      const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
      core.setFailed(`Unexpected error (a bug in golden-image; please report it with this log): ${detail}`);
    }
    process.exitCode = 1;
  }
}
