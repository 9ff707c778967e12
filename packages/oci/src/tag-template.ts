import { show } from '@golden-image/kit';
import { tagProblem } from './reference.js';

/** `{date}` is the UTC date as YYYYMMDD, so `nightly-{date}` gives `nightly-20261125`. */
export function expandTagTemplate(template: string, now: Date): { tag?: string; problem?: string } {
  const date = now.toISOString().slice(0, 10).replaceAll('-', '');
  const tag = template.replaceAll('{date}', date);
  const unknown = /\{[^}]*\}/.exec(tag);
  if (unknown) return { problem: `${show(template)} uses the placeholder ${unknown[0]}; the only placeholder is {date} (UTC YYYYMMDD)` };
  const problem = tagProblem(tag);
  return problem ? { problem } : { tag };
}
