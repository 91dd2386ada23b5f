// `artiphys serve`: the workbench over HTTP + WebSocket for headless GPU boxes. Like a notebook
// server it binds to loopback and admits only holders of a random token: the URL carries it
// once, a strict same-site cookie carries it afterwards, and every route without it is a 401.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { ApiError, type CallAnswer } from '../../shared/api/contract';
import type { Workbench } from '../services/workbench';
import { removeServerFile, writeServerFile } from './server-file';

export interface ServeOptions {
  host?: string;
  port?: number;
  token?: string;
  /** Folder of the built renderer (index.html and assets). */
  rendererDir: string;
}

export interface RunningServer {
  url: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

const COOKIE = 'artiphys_token';
const MAX_BODY = 1 << 20;
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};

export async function serve(wb: Workbench, opts: ServeOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token ?? randomBytes(24).toString('hex');
  let port = 0;

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (res.headersSent) res.destroy();
      else if (err instanceof HttpError) sendJson(res, err.status, { ok: false, error: { code: 'bad_request', message: err.message } }, err.close);
      else sendJson(res, 500, { ok: false, error: { code: 'internal', message: String(err) } });
    });
  });

  function authorized(req: http.IncomingMessage, url: URL): boolean {
    const header = req.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
    const candidates = [header, url.searchParams.get('token') ?? undefined, cookie(req, COOKIE)];
    return candidates.some((c) => c !== undefined && safeEqual(c, token));
  }

  /** Browsers send Origin on cross-site requests: only our own origin may call or subscribe. */
  function sameOrigin(req: http.IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (!origin) return true;
    return origin === `http://${host}:${port}` || origin === `http://localhost:${port}` || origin === `http://127.0.0.1:${port}`;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://${host}`);
    } catch {
      throw new HttpError(400, 'the request URL cannot be read');
    }
    if (!authorized(req, url)) {
      // A browser (a bare URL typed or bookmarked) gets a page saying how to get in; API clients get JSON.
      if (req.method === 'GET' && /\btext\/html\b/.test(req.headers.accept ?? '')) return sendTokenPage(res, url.searchParams.has('token'));
      sendJson(res, 401, { ok: false, error: { code: 'unauthorized', message: 'missing or wrong token: open the URL that "artiphys serve" printed' } });
      return;
    }
    if (url.pathname === '/api/call') {
      if (req.method !== 'POST') return sendJson(res, 405, { ok: false, error: { code: 'bad_request', message: 'POST only' } });
      if (!sameOrigin(req)) return sendJson(res, 403, { ok: false, error: { code: 'unauthorized', message: 'cross-origin call refused' } });
      return sendJson(res, 200, await answer(wb, await readBody(req)));
    }
    if (url.pathname.startsWith('/api/')) {
      return sendJson(res, 404, { ok: false, error: { code: 'not_found', message: `no route ${url.pathname}` } });
    }
    serveStatic(req, res, url, opts.rendererDir, url.searchParams.get('token') === token ? token : null);
  }

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', `http://${host}`);
    if (url.pathname !== '/api/events' || !authorized(req, url) || !sameOrigin(req)) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => subscribe(wb, ws));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  // Beside the open project, where the CLI looks for it (a server on another interface is not announced).
  const announce = host === '127.0.0.1' || host === 'localhost';
  let announced: string | null = null;
  const announceProject = (project: string) => {
    if (!announce) return;
    if (announced) removeServerFile(announced);
    announced = null;
    try {
      writeServerFile({ pid: process.pid, url: `http://${host}:${port}`, token, project });
      announced = project;
    } catch {
      // A folder the server cannot write beside the project: the CLI then reads the project read-only.
    }
  };
  announceProject(wb.project.path);
  const offProject = wb.onEvent((e) => {
    if (e.type === 'project.changed') announceProject(e.path);
  });
  return {
    url: `http://${host}:${port}/?token=${token}`,
    token,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        offProject();
        if (announced) removeServerFile(announced);
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Runs one call and wraps the outcome in the wire envelope. */
export async function answer(wb: Workbench, raw: unknown): Promise<CallAnswer> {
  try {
    return { ok: true, result: (await wb.call(raw)) as never };
  } catch (err) {
    const e = err instanceof ApiError ? err : new ApiError('internal', err instanceof Error ? err.message : String(err));
    return { ok: false, error: { code: e.code, message: e.message } };
  }
}

function subscribe(wb: Workbench, ws: WebSocket): void {
  const off = wb.onEvent((event) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(event));
  });
  ws.on('close', off);
  ws.on('error', off);
  // The socket only pushes events; anything a client sends is ignored.
}

function serveStatic(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  root: string,
  tokenFromUrl: string | null,
): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405).end();
    return;
  }
  let rel: string;
  try {
    rel = decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname);
  } catch {
    throw new HttpError(400, `the path ${url.pathname} is not valid percent-encoding`);
  }
  const file = path.resolve(root, '.' + rel);
  if (!file.startsWith(path.resolve(root) + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  const headers: http.OutgoingHttpHeaders = {
    'content-type': MIME[path.extname(file)] ?? 'application/octet-stream',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  };
  if (tokenFromUrl) headers['set-cookie'] = `${COOKIE}=${tokenFromUrl}; HttpOnly; SameSite=Strict; Path=/`;
  res.writeHead(200, headers);
  if (req.method === 'HEAD') res.end();
  else fs.createReadStream(file).pipe(res);
}

/** An answer other than 200 with its status; `close` ends the connection (a body left unread). */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly close = false,
  ) {
    super(message);
  }
}

/** The JSON body, up to MAX_BODY bytes; a larger one is a 413, told before it is read. */
async function readBody(req: http.IncomingMessage): Promise<unknown> {
  const tooLarge = () => new HttpError(413, `request body over ${MAX_BODY >> 20} MiB`, true);
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined; // parseCall answers with a clear bad_request
  }
}

/** The 401 page for browsers: where the token comes from, with no project data. */
function sendTokenPage(res: http.ServerResponse, wrongToken: boolean): void {
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Artiphys: token needed</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:40em;margin:12vh auto;padding:0 1em;color:#222}code{background:#f1f3f5;padding:1px 4px;border-radius:3px}</style>
</head><body>
<h1>This Artiphys workbench needs its token</h1>
<p>${wrongToken ? 'The token in this address is not the one this server expects.' : 'This address has no token.'} The server admits only the browser that opens the address it printed when it started, which carries a random token:</p>
<p><code>Open http://127.0.0.1:PORT/?token=…</code></p>
<p>Find that line in the terminal where <code>artiphys serve</code> runs (or start it again to get a new one), and open the whole address. After that, this browser keeps the token in a cookie until it closes.</p>
</body></html>
`;
  res.writeHead(401, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(page);
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, close = false): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...(close ? { connection: 'close' } : {}) });
  res.end(JSON.stringify(body));
}

function cookie(req: http.IncomingMessage, name: string): string | undefined {
  const raw = req.headers.cookie;
  if (!raw) return undefined;
  for (const part of raw.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
