/** Small markdown builders for job summaries; cells are escaped so a value cannot break the table. */

export function escapeCell(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map(escapeCell).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function code(value: string): string {
  const fence = value.includes('`') ? '``' : '`';
  return `${fence}${value.replace(/\r?\n/g, ' ')}${fence}`;
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
