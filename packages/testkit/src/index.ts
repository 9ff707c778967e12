export {
  type CloudRegistries,
  type ImpersonatedRegistry,
  REGISTRY_USER,
  startImpersonatedRegistries,
  startWorkflowEnvironment,
  type WorkflowEnvironment,
} from './act/environment.js';
export { type ExpressionContext, evaluateTemplate } from './act/expression.js';
export {
  type CallerRepository,
  callerRepository,
  commitAll,
  goldenImageSnapshot,
  type Snapshot,
} from './act/repositories.js';
export {
  describeRun,
  type JobRun,
  runWorkflow,
  type StepRun,
  type WorkflowRun,
  type WorkflowRunOptions,
} from './act/run.js';
export type { StandInConfig } from './act/stand-in-config.js';
export { type BuildkitOptions, startBuildkit, type TestBuildkit } from './buildkit.js';
export { skipOffCi } from './ci.js';
export { createTestContext, everythingPrinted, type Recorded } from './context.js';
export { DirCache } from './dir-cache.js';
export {
  DOUBLE_CONTROL,
  DOUBLES_BIN,
  DoubleControlsRunner,
  doubleControls,
  doubleShims,
  shellQuote,
  withDoubleShims,
} from './double-controls.js';
export {
  type AnswerEdit,
  type FaultKind,
  type FaultProxy,
  type FaultProxyOptions,
  type ProxiedAnswer,
  startFaultProxy,
} from './fault-proxy.js';
export { repoRoot, tempDir, thirdParty, untarBuildxLayout } from './fixtures.js';
export { startFulcio, type TestFulcio } from './fulcio.js';
export { type KyvernoOutcome, kyvernoApply, podYaml } from './kyverno.js';
export { type BuiltLayout, buildLayout, type LayoutSpec } from './layout-builder.js';
export { parseOutputFile, runBundledAction, type StepResult } from './local-runner.js';
export { type OfflineOsvDb, offlineOsvDb, osvAdvisoriesDir, readAdvisories, zip } from './offline/osv-db.js';
export {
  alpineFiles,
  alpineSampleLayout,
  cleanAlpineSampleLayout,
  javaSampleLayout,
  SAMPLE_MUSL,
  type SampleLayoutOptions,
  sampleImageFiles,
  sampleJar,
} from './offline/sample-images.js';
export {
  advisoriesWithout,
  doubleTrivyDbFiles,
  type OfflineDbOptions,
  offlineTrivyCache,
  type PushedTrivyDb,
  projectTrivyDbFiles,
  pushProjectTrivyDb,
  pushTrivyDbArtifact,
  pushTrivyDbFiles,
  TRIVY_ADVISORIES,
  TRIVY_DB_MEDIA_TYPE,
  TRIVY_JAVA_DB_MEDIA_TYPE,
  trivyDbLayer,
  trivyDbTool,
} from './offline/trivy-db.js';
export { type GithubJob, githubClaims, type OidcIssuer, startOidcIssuer } from './oidc-issuer.js';
export { peerEnvironment } from './peer-process.js';
export { projectGoTool } from './project-go-tool.js';
export { pathDirFor, realTool, realTools, realToolsBin, realToolsDir } from './real-tools.js';
export { RecordingRunner } from './recording-runner.js';
export { referrersRegistryTool, startReferrersRegistry } from './referrers-registry.js';
export { freePort, type RegistryOptions, registryBinary, startRegistry, type TestRegistry } from './registry.js';
export { toolAvailable } from './tool-available.js';
export { type NpmRegistryOptions, startVerdaccio, type TestNpmRegistry } from './verdaccio.js';
