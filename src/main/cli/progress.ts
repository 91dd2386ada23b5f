// A one-line progress bar with ETA for long commands on a terminal.
import type { RunProgress } from '../../shared/domain';
import { forTerminal } from '../terminal-text';

export class ProgressBar {
  private lastDraw = 0;

  private readonly label: string;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    label: string,
  ) {
    this.label = forTerminal(label);
  }

  update(p: RunProgress): void {
    const now = Date.now();
    if (now - this.lastDraw < 100 && p.step < p.total) return;
    this.lastDraw = now;
    const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - 60));
    const frac = p.total > 0 ? Math.min(1, p.step / p.total) : 0;
    const filled = Math.round(frac * width);
    const eta = p.etaSeconds === null ? '' : ` ETA ${formatSeconds(p.etaSeconds)}`;
    const line = `${this.label.slice(0, 30)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${p.step}/${p.total}${eta}`;
    this.stream.write(`\r${line.padEnd((this.stream.columns ?? 80) - 1)}`);
  }

  done(): void {
    this.stream.write('\n');
  }
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${Math.ceil(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`;
}
