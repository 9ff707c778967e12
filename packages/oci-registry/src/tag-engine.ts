/** What promote-tags needs from a registry engine: point a tag at a digest, and read a reference back. */
export interface TagEngine {
  readonly name: string;
  /** Retries of transient registry errors so far (for the job summary). */
  readonly retries: number;
  /** Points IMAGE:TAG at IMAGE@DIGEST without moving layers. */
  tagDigest(image: string, digest: string, tag: string): Promise<void>;
  /** The digest REF resolves to, or undefined when it does not exist. */
  digestOf(ref: string): Promise<string | undefined>;
}
