// Placeholder until the stand-ins land (branch standins): the bundler of the third-party action stand-ins.
export async function bundleStandIns(_outDir: string, _configPath: string): Promise<{ localRepositories: string[] }> {
  throw new Error('the stand-ins are not built yet');
}
