/// <reference types="vite/client" />
import type { ApiEvent, CallAnswer } from '../../shared/api/contract';

/** What the desktop preload exposes (contextIsolation: plain functions, no Node objects). */
export interface DesktopBridge {
  call(method: string, params: unknown): Promise<CallAnswer>;
  onEvent(listener: (event: ApiEvent) => void): () => void;
  /** Native file picker; resolves with a path or null when the user cancelled. */
  pickFile?(kind: 'model' | 'project'): Promise<string | null>;
  /** Path of a file dropped on the window ('' when it has none, e.g. dragged from a web page). */
  pathForFile?(file: File): string;
}

declare global {
  interface Window {
    artiphys?: DesktopBridge;
  }
}
