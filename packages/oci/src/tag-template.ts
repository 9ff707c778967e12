import { show } from '@golden-image/kit';

/**
 * Expands `{date}` to the UTC date as YYYYMMDD, so `nightly-{date}` gives `nightly-20261125`; any other `{…}`
 * is refused. The result is a bare tag or a full reference, checked afterwards by resolveTags.
 */
export function expandTagTemplate(template: string, now: Date): { tag?: string; problem?: string } {
  const date = now.toISOString().slice(0, 10).replaceAll('-', '');
  const tag = template.replaceAll('{date}', date);
  const unknown = /\{[^}]*\}/.exec(tag);
  if (unknown)
    return {
      problem: `${show(template)} uses the placeholder ${unknown[0]}; the only placeholder is {date} (UTC YYYYMMDD)`,
    };
  return { tag };
}
