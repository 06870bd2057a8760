import type { TransferEvent } from '../engine/index.js';
import { humanSize } from './units.js';

const STATUS_TEXT: Record<string, string> = {
  waiting: 'Waiting',
  exists: 'Already exists',
  downloading: 'Downloading',
  verifying: 'Verifying Checksum',
  downloaded: 'Download complete',
  extracting: 'Extracting',
  complete: 'Pull complete',
  pushing: 'Pushing',
  pushed: 'Pushed',
  mounted: 'Mounted from another repository',
};

function bar(current: number, total: number, width = 50): string {
  const filled = total > 0 ? Math.min(width, Math.floor((current / total) * width)) : 0;
  // The head sits on the last filled cell (or the first one when none is), as Docker draws it.
  const head = Math.max(1, filled);
  return `[${'='.repeat(head - 1)}${filled >= width ? '=' : '>'}${' '.repeat(width - head)}]`;
}

/**
 * Docker's pull/push progress. On a terminal: one line per layer, redrawn in place at most
 * ten times a second (cursor up, clear line), with a progress bar while bytes move.
 * Elsewhere (a pipe, a log): one plain line each time a layer's status changes.
 *
 * Written here rather than taken from a library: the candidates (log-update, listr2,
 * cli-progress) pull in several dependencies and more load time than the 80 lines this
 * needs, and none renders Docker's layout.
 */
export class ProgressDisplay {
  private readonly order: string[] = [];
  private readonly lines = new Map<string, string>();
  private readonly lastStatus = new Map<string, string>();
  private rendered = 0;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly tty = out.isTTY,
    /** Pushes say "Layer already exists" where pulls say "Already exists". */
    private readonly mode: 'pull' | 'push' = 'pull',
  ) {}

  /** A line printed above the layer lines ("1: Pulling from library/redis"). */
  print(text: string): void {
    if (this.tty) this.flush();
    this.out.write(`${text}\n`);
    if (this.tty) {
      // Printed lines scroll with the others: start the layer block below them.
      this.order.length = 0;
      this.lines.clear();
      this.rendered = 0;
    }
  }

  /** Feed a transfer event. */
  event(e: TransferEvent): void {
    if (e.type === 'message') {
      this.print(e.text);
      return;
    }
    if (e.type !== 'layer') return;
    const status =
      this.mode === 'push' && e.status === 'exists'
        ? 'Layer already exists'
        : (STATUS_TEXT[e.status] ?? e.status);
    const moving = e.status === 'downloading' || e.status === 'pushing';
    let text = `${e.id}: ${status}`;
    if (moving && e.total > 0) {
      // The bar takes what the terminal leaves (at most 50), and goes when that is too little.
      const sizes = `${humanSize(e.current)}/${humanSize(e.total)}`;
      const room = Math.min(50, (this.out.columns || 80) - 1 - text.length - sizes.length - 5);
      text += room >= 10 ? ` ${bar(e.current, e.total, room)}  ${sizes}` : `  ${sizes}`;
    }
    if (!this.tty) {
      if (this.lastStatus.get(e.id) !== status) {
        this.lastStatus.set(e.id, status);
        this.out.write(`${e.id}: ${status}\n`);
      }
      return;
    }
    if (!this.lines.has(e.id)) this.order.push(e.id);
    if (this.lines.get(e.id) === text) return;
    this.lines.set(e.id, text);
    this.dirty = true;
    this.timer ??= setInterval(() => this.flush(), 100);
    // A display left running must not keep the process alive.
    this.timer.unref();
  }

  /** Draws pending changes now. */
  flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const width = (this.out.columns || 80) - 1;
    let s = this.rendered > 0 ? `\x1b[${this.rendered}A` : '';
    for (const id of this.order) s += `\x1b[2K${(this.lines.get(id) ?? '').slice(0, width)}\n`;
    this.rendered = this.order.length;
    this.out.write(s);
  }

  /** Final draw; stops the timer. */
  end(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
  }
}
