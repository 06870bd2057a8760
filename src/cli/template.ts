import { ChrunError } from '../util/index.js';

/** A template checked once, rendered for each item (see compileTemplate()). */
export type CompiledTemplate = (data: unknown) => string;

type Part =
  | { kind: 'text'; text: string }
  | { kind: 'field'; json: boolean; path: string[]; index?: (string | number)[] };

function parseError(why: string): ChrunError {
  // Docker's wording: "template parsing error: template: :1: unclosed action".
  return new ChrunError('CHRUN_INVALID_ARGUMENT', `template parsing error: ${why}`);
}

function fieldPath(expr: string, action: string): string[] {
  if (!/^\.[A-Za-z0-9_.]*$/.test(expr) || /\.\./.test(expr) || /\.$/.test(expr.slice(1))) {
    throw parseError(
      `unsupported action "{{${action}}}" (use {{.Field}}, {{json .Field}} or {{index .Field N}})`,
    );
  }
  return expr.split('.').filter((k) => k !== '');
}

function parseAction(action: string): Part {
  const words = action.trim().split(/\s+/);
  if (words[0] === 'json' && words.length === 2) {
    return { kind: 'field', json: true, path: fieldPath(words[1]!, action) };
  }
  if (words[0] === 'index' && words.length >= 3) {
    const index = words.slice(2).map((w) => {
      if (/^\d+$/.test(w)) return Number(w);
      const quoted = /^"([^"\\]*)"$/.exec(w);
      if (quoted !== null) return quoted[1]!;
      throw parseError(`index: bad key ${w} in "{{${action}}}"`);
    });
    return { kind: 'field', json: false, path: fieldPath(words[1]!, action), index };
  }
  if (words.length === 1 && words[0]!.startsWith('.')) {
    return { kind: 'field', json: false, path: fieldPath(words[0]!, action) };
  }
  if (words.length === 1 && /^[a-z]\w*$/i.test(words[0]!)) {
    throw parseError(`function "${words[0]!}" not defined`);
  }
  throw parseError(
    `unsupported action "{{${action}}}" (use {{.Field}}, {{json .Field}} or {{index .Field N}})`,
  );
}

/**
 * A small subset of Go templates for `inspect --format`: `{{.Field.Sub}}`, `{{.}}`,
 * `{{json .X}}` and `{{index .X 0}}`. The whole template is checked before anything is
 * looked up, so a bad one is one line of error, as docker's "template parsing error".
 */
export function compileTemplate(template: string): CompiledTemplate {
  const parts: Part[] = [];
  let rest = template;
  while (rest.length > 0) {
    const open = rest.indexOf('{{');
    if (open < 0) {
      parts.push({ kind: 'text', text: rest });
      break;
    }
    if (open > 0) parts.push({ kind: 'text', text: rest.slice(0, open) });
    const close = rest.indexOf('}}', open + 2);
    if (close < 0) throw parseError('unclosed action');
    const action = rest.slice(open + 2, close);
    if (action.trim() === '') throw parseError('missing value for command');
    parts.push(parseAction(action));
    rest = rest.slice(close + 2);
  }
  return (data) => parts.map((p) => (p.kind === 'text' ? p.text : render(p, data))).join('');
}

function render(part: Extract<Part, { kind: 'field' }>, data: unknown): string {
  let v: unknown = data;
  for (const key of [...part.path, ...(part.index ?? [])]) {
    v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
  }
  if (part.json) return JSON.stringify(v ?? null);
  return scalar(v);
}

/** compileTemplate() and render once. */
export function renderTemplate(template: string, data: unknown): string {
  return compileTemplate(template)(data);
}

/** Go's %v for a value: lists as [a b], maps as JSON, scalars as text. */
function scalar(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (Array.isArray(v)) return `[${v.map(scalar).join(' ')}]`;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}
