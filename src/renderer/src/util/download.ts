// Saving an exported file on the user's machine: the bytes the API returned become a Blob behind an
// object URL that a hidden <a download> link clicks. The same path works in Chromium and in
// Electron (which turns it into its save-file flow).
import type { ExportedFile, Provenance } from '../../../shared/figures';

/** Object URLs live until the browser has started reading them; a minute is ample. */
const REVOKE_AFTER_MS = 60_000;

function bytesOf(base64: string): Uint8Array<ArrayBuffer> {
  const text = atob(base64);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/**
 * Downloads an exported file. A file the server wrote to a path (`path` set, no bytes) has
 * nothing to download; the caller says where it went instead.
 */
export function downloadExported(file: ExportedFile): void {
  if (!file.base64) throw new Error(`${file.fileName} was written to ${file.path ?? 'the server'}, not sent back`);
  const url = URL.createObjectURL(new Blob([bytesOf(file.base64)], { type: file.mime }));
  const link = document.createElement('a');
  link.href = url;
  link.download = file.fileName;
  link.style.display = 'none';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
}

/** One line naming where a file came from: its runs and the hash of their configuration. */
export function describeProvenance(p: Provenance): string {
  const runs = p.runIds.length ? `run${p.runIds.length > 1 ? 's' : ''} ${p.runIds.map((id) => `#${id}`).join(', ')}` : 'no runs';
  return `${runs} · config ${p.configHash.slice(0, 12)} · Artiphys ${p.appVersion}`;
}

/** File size in words for notices ("12.3 kB"). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
