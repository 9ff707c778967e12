export { runAction } from './action.js';
export { type ActionContext, createActionsContext, maskSecretInputs, stepContext } from './context.js';
export { inputProblem, UserError } from './errors.js';
export { HOST_ENV_NAMES, hostEnv } from './host-env.js';
export {
  booleanInput,
  checkedString,
  controlProblem,
  enumInput,
  type InputSource,
  type InputSpec,
  type Inputs,
  integerInput,
  listInput,
  optionalCheckedString,
  optionalString,
  parseInputs,
  requiredString,
  show,
  splitLines,
  splitList,
} from './inputs.js';
export { ExecRunner, lastLines, type RunOptions, type RunResult, runChecked, type ToolRunner } from './runner.js';
export * as md from './summary.js';
