// The one API client of the renderer: the desktop bridge when the preload provides it, HTTP and
// a WebSocket to the serving origin otherwise. Stores talk to the workbench only through this.
import { DesktopClient } from './desktop-client';
import { HttpClient } from './http-client';
import { takeTokenFromAddress } from './token';
import type { WorkbenchClient } from './types';

export { CallError, describeError } from './errors';
export type { ConnectionState, WorkbenchClient } from './types';

function createClient(): WorkbenchClient {
  if (window.artiphys) return new DesktopClient(window.artiphys);
  return new HttpClient(window.location.origin, takeTokenFromAddress());
}

let client: WorkbenchClient | null = null;

export function api(): WorkbenchClient {
  client ??= createClient();
  return client;
}
