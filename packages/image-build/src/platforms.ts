import { UserError } from '@golden-image/kit';

/** BuildKit and containers/image spell some platforms two ways: linux/arm64/v8 is linux/arm64, linux/arm is linux/arm/v7. */
export function normalizePlatform(platform: string): string {
  const [os, arch, variant] = platform.split('/');
  if (arch === 'arm64' && (variant === undefined || variant === 'v8')) return `${os}/arm64`;
  if (arch === 'arm' && variant === undefined) return `${os}/arm/v7`;
  if (arch === 'amd64' && variant === 'v1') return `${os}/amd64`;
  return platform;
}

/** Fails when the layout lacks a requested platform (a builder that quietly built only its own, for instance). */
export function checkPlatforms(requested: readonly string[], built: Record<string, string>, builder: string): void {
  const have = new Set(Object.keys(built).map(normalizePlatform));
  const missing = requested.filter((p) => !have.has(normalizePlatform(p)));
  if (missing.length > 0) {
    throw new UserError(
      `${builder} built ${Object.keys(built).join(', ') || 'no runnable platform'}, but platforms asked for ${requested.join(', ')}: ${missing.join(', ')} missing.`,
    );
  }
}

/** Drops duplicates (after normalizing) so one platform is not built twice. */
export function uniquePlatforms(platforms: readonly string[]): string[] {
  const seen = new Set<string>();
  return platforms.filter((p) => {
    const key = normalizePlatform(p);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
