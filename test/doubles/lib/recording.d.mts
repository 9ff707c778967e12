// Types of recording.mjs, for the tests that import it.
export declare const RECORDING_KEY: string;
export declare function pinnedVersion(tool: string): string;
export declare function readRecording(tool: string, file: string, code: number): Record<string, unknown>;
export declare function catalogueVersion(bin: string): string;
