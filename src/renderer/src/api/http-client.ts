// Headless transport: calls as POST /api/call, events over a WebSocket at /api/events. The socket
// reconnects with backoff; listeners learn of each reconnection so they can catch up on what
// they missed while it was down.
import type { ApiEvent, CallAnswer, Method, MethodResults, Params } from '../../../shared/api/contract';
import { CallError } from './errors';
import type { ConnectionState, WorkbenchClient } from './types';

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 5000;

export class HttpClient implements WorkbenchClient {
  readonly transport = 'http' as const;
  private state: ConnectionState = 'connecting';
  private readonly eventListeners = new Set<(e: ApiEvent) => void>();
  private readonly connectionListeners = new Set<(s: ConnectionState) => void>();
  private socket: WebSocket | null = null;
  private retryMs = RETRY_MIN_MS;

  constructor(
    private readonly origin: string,
    private readonly token: string | null,
  ) {
    this.connect();
  }

  get connection(): ConnectionState {
    return this.state;
  }

  async call<M extends Method>(method: M, params?: Params<M>): Promise<MethodResults[M]> {
    let res: Response;
    try {
      res = await fetch(`${this.origin}/api/call`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        body: JSON.stringify({ method, params: params ?? {} }),
      });
    } catch {
      throw new CallError('network', 'the Artiphys server does not answer: is "artiphys serve" still running?', method);
    }
    if (res.status === 401) {
      this.setState('unauthorized');
      throw new CallError('unauthorized', 'not authorized: open the URL (with its token) that "artiphys serve" printed', method);
    }
    let answer: CallAnswer<M>;
    try {
      answer = (await res.json()) as CallAnswer<M>;
    } catch {
      throw new CallError('internal', `${method}: the server answered HTTP ${res.status} without a readable body`, method);
    }
    if (!answer.ok) throw new CallError(answer.error.code, answer.error.message, method);
    return answer.result;
  }

  onEvent(listener: (event: ApiEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onConnection(listener: (state: ConnectionState) => void): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  private connect(): void {
    const wsOrigin = this.origin.replace(/^http/, 'ws');
    const query = this.token ? `?token=${encodeURIComponent(this.token)}` : '';
    const socket = new WebSocket(`${wsOrigin}/api/events${query}`);
    this.socket = socket;
    socket.onopen = () => {
      this.retryMs = RETRY_MIN_MS;
      this.setState('live');
    };
    socket.onmessage = (msg) => {
      let event: ApiEvent;
      try {
        event = JSON.parse(String(msg.data)) as ApiEvent;
      } catch {
        return; // not ours to interpret
      }
      for (const l of this.eventListeners) l(event);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.state !== 'unauthorized') this.setState(this.state === 'connecting' ? 'connecting' : 'reconnecting');
      const wait = this.retryMs;
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
      setTimeout(() => this.connect(), wait);
    };
  }

  private setState(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    for (const l of this.connectionListeners) l(state);
  }
}
