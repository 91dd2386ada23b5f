// Desktop transport: the preload bridge carries calls and events over Electron IPC.
import type { ApiEvent, Method, MethodResults, Params } from '../../../shared/api/contract';
import type { DesktopBridge } from '../env';
import { CallError } from './errors';
import type { ConnectionState, WorkbenchClient } from './types';

export class DesktopClient implements WorkbenchClient {
  readonly transport = 'desktop' as const;
  readonly connection: ConnectionState = 'live';

  constructor(private readonly bridge: DesktopBridge) {}

  async call<M extends Method>(method: M, params?: Params<M>): Promise<MethodResults[M]> {
    const answer = await this.bridge.call(method, params ?? {});
    if (!answer.ok) throw new CallError(answer.error.code, answer.error.message, method);
    return answer.result as MethodResults[M];
  }

  onEvent(listener: (event: ApiEvent) => void): () => void {
    return this.bridge.onEvent(listener);
  }

  onConnection(): () => void {
    return () => undefined; // IPC does not drop
  }

  pathForFile(file: File): string | null {
    return this.bridge.pathForFile?.(file) || null;
  }

  pickFile(kind: 'model' | 'project'): Promise<string | null> {
    return this.bridge.pickFile ? this.bridge.pickFile(kind) : Promise.resolve(null);
  }
}
