/**
 * Progress of a long operation on stderr, so stdout stays a clean summary for scripts.
 * On a terminal the line is redrawn in place with a bar; in a log or a pipe every step is
 * its own `[n/total] name` line, which is what a CI log or `2>file` wants.
 */
export class Progress {
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  step(done: number, total: number, item: string): void {
    if (!this.tty) {
      this.stream.write(`[${done}/${total}] ${item}\n`);
      return;
    }
    const width = 20;
    const filled = total ? Math.round((done / total) * width) : width;
    const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
    this.stream.write(`\r\x1b[2K${this.label} [${bar}] ${done}/${total} ${item}`);
    if (done === total) this.stream.write('\n');
  }
}
