import { HOST_OPS, describeStep, type Plan } from '../sys/index.js';

/** One isolation step and what it cost. */
export interface ExplainStep {
  /** 'host' (chrun or the helper on the host side) or 'container'. */
  side: 'chrun' | 'host' | 'container';
  what: string;
  usec: number | undefined;
}

/** The steps taken, in order, with the microseconds each took (as the helper measured). */
export function explainPlan(
  plan: Plan,
  timings: ReadonlyMap<number, number>,
  phases: readonly { what: string; usec: number }[] = [],
): ExplainStep[] {
  const out: ExplainStep[] = phases.map((p) => ({ side: 'chrun', what: p.what, usec: p.usec }));
  plan.forEach((s, i) => {
    if (s.op.startsWith('orphan-')) return; // only if chrun dies
    out.push({
      side: HOST_OPS.has(s.op) ? 'host' : 'container',
      what: describeStep(s),
      usec: timings.get(i),
    });
  });
  return out;
}

/** `--explain` text: one line a step, microseconds right-aligned. */
export function formatExplain(steps: readonly ExplainStep[]): string {
  return steps
    .map(
      (s) =>
        `${(s.usec === undefined ? '-' : String(Math.round(s.usec))).padStart(8)} us  ${s.side.padEnd(9)} ${s.what}`,
    )
    .join('\n');
}
