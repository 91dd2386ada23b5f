import type { ApiClient } from '../../../shared/api/contract';

/** Whether events reach us: the desktop bridge is always live, a WebSocket can drop. */
export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'unauthorized';

/** An ApiClient plus what the shell shows about the transport carrying it. */
export interface WorkbenchClient extends ApiClient {
  readonly transport: 'desktop' | 'http';
  readonly connection: ConnectionState;
  onConnection(listener: (state: ConnectionState) => void): () => void;
  /** The native file picker where there is one (desktop only). */
  pickFile?(kind: 'model' | 'project'): Promise<string | null>;
  /** Path of a dropped file where the page can know it (desktop only); null otherwise. */
  pathForFile?(file: File): string | null;
}
