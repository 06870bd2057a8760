/** One authentication challenge of a WWW-Authenticate header (RFC 7235). */
export interface Challenge {
  /** The scheme, lowercase: "bearer", "basic". */
  scheme: string;
  /** Parameters with lowercase names: realm, service, scope, error, ... */
  params: Record<string, string>;
  /** A token68 value, for schemes that carry one instead of parameters. */
  token68?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*/;

/**
 * Parses WWW-Authenticate header values into challenges. One value may hold several
 * challenges separated by commas, parameters may be tokens or quoted strings with
 * backslash escapes, and a header may be given several times.
 */
export function parseChallenges(header: string | readonly string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  if (typeof header !== 'string') return header.flatMap((h) => parseChallenges(h));
  const s = header;
  const out: Challenge[] = [];
  let i = 0;
  let current: Challenge | undefined;
  const skipWs = (): void => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < s.length && TCHAR.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  // RFC 7235 wants a token here; be lenient, as Docker is, with unquoted URLs.
  const readBare = (): string => {
    const start = i;
    while (i < s.length && s[i] !== ',' && s[i] !== ' ' && s[i] !== '\t') i++;
    return s.slice(start, i);
  };
  const readQuoted = (): string => {
    let value = '';
    i++; // opening quote
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\' && i + 1 < s.length) i++;
      value += s.charAt(i);
      i++;
    }
    i++; // closing quote
    return value;
  };
  while (i < s.length) {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === ',')) i++;
    if (i >= s.length) break;
    const token = readToken();
    if (token === '') {
      i++; // not a token character: skip it
      continue;
    }
    skipWs();
    if (s[i] === '=' && current !== undefined) {
      i++;
      skipWs();
      const value = s[i] === '"' ? readQuoted() : readBare();
      current.params[token.toLowerCase()] = value;
      continue;
    }
    current = { scheme: token.toLowerCase(), params: {} };
    out.push(current);
    const m = TOKEN68.exec(s.slice(i));
    if (m !== null) {
      let j = i + m[0].length;
      while (j < s.length && (s[j] === ' ' || s[j] === '\t')) j++;
      if (j >= s.length || s[j] === ',') {
        current.token68 = m[0];
        i = j;
      }
    }
  }
  return out;
}
