import { UserError } from '@golden-image/kit';

/** The error for a scanner report that cannot be trusted: a crash or a truncated file is never "0 findings". */
export function unreadableReport(tool: string, source: string, why: string): UserError {
  return new UserError(
    `The ${tool} report ${source} cannot be read: ${why}. The scan did not complete, so the gate cannot pass.`,
  );
}

/** Parses a report file's text; an empty or invalid file is an error. */
export function parseReportJson(tool: string, text: string, source: string): unknown {
  if (text.trim() === '') throw unreadableReport(tool, source, 'the file is empty');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw unreadableReport(
      tool,
      source,
      `it is not valid JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}
