import { ChrunError } from '../util/index.js';

/**
 * A small subset of Go templates for `inspect --format`: `{{.Field.Sub}}`, `{{json .X}}`
 * and `{{.}}`. Anything else is refused with the action named.
 */
export function renderTemplate(template: string, data: unknown): string {
  return template.replace(/\{\{(.*?)\}\}/g, (_m, inner: string) => {
    const action = inner.trim();
    const m = /^(json\s+)?(\.[A-Za-z0-9_.]*)$/.exec(action);
    if (m === null) {
      throw new ChrunError(
        'CHRUN_INVALID_ARGUMENT',
        `unsupported template action "{{${inner}}}" (use {{.Field}} or {{json .Field}})`,
      );
    }
    let v: unknown = data;
    for (const key of m[2]!.split('.').filter((k) => k !== '')) {
      v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
    }
    if (m[1] !== undefined) return JSON.stringify(v ?? null);
    if (v === undefined || v === null) return '<no value>';
    return scalar(v);
  });
}

/** Go's %v for a value: lists as [a b], maps as JSON, scalars as text. */
function scalar(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (Array.isArray(v)) return `[${v.map(scalar).join(' ')}]`;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}
