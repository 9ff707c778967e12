/** Small markdown builders for job summaries; cells are escaped so a value cannot break the table. */

export function escapeCell(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map(escapeCell).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** An inline code span that no value can close early: the fence is one backtick longer than any run inside. */
export function code(value: string): string {
  const text = value.replace(/\r?\n/g, ' ');
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

export function codeBlock(value: string, language = ''): string {
  return `\`\`\`\`${language}\n${value}\n\`\`\`\`\n`;
}

export function heading(text: string, level = 2): string {
  return `${'#'.repeat(level)} ${text}\n`;
}

/** Key/value rows as a two-column table. */
export function facts(rows: readonly [string, string][]): string {
  return table(
    ['', ''],
    rows.map(([key, value]) => [key, value]),
  );
}
