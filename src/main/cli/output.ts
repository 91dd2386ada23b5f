// What the CLI prints: text for people (through forTerminal, so names from model files cannot
// drive the terminal) or exactly one JSON document on stdout; with --json, events (progress,
// status, engine logs) go to stderr as one JSON object per line.
import { forTerminal } from '../terminal-text';
import type { ParsedArgs } from './args';

export function out(args: ParsedArgs, json: unknown, human: () => string): void {
  console.log(args.flags.json ? JSON.stringify(json, null, 2) : forTerminal(human()));
}

/** One event as one JSON line on stderr (for programs that run `artiphys ... --json`). */
export function jsonEvent(event: Record<string, unknown>): void {
  process.stderr.write(`${JSON.stringify(event)}\n`);
}
