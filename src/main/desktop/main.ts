// The desktop shell: a window, the preload bridge and IPC. Thin on purpose: it wires the same
// Workbench the CLI and the server use, and runs the engine in an Electron utilityProcess.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, utilityProcess } from 'electron';
import type { FromEngine } from '../engine/protocol';
import type { EngineLauncher } from '../services/engine-process';
import { engineEntry, engineEnvironment } from '../services/engine-process';
import { defaultProjectPath, Workbench } from '../services/workbench';
import { answer } from '../server/http-server';

const here = path.dirname(fileURLToPath(import.meta.url));

const launchUtilityEngine: EngineLauncher = () => {
  const child = utilityProcess.fork(engineEntry().file, [], { serviceName: 'artiphys-engine', stdio: 'inherit', env: engineEnvironment() });
  return {
    get pid() {
      return child.pid;
    },
    send: (msg) => child.postMessage(msg),
    onMessage: (l) => child.on('message', (m: unknown) => l(m as FromEngine)),
    onExit: (l) => child.once('exit', (code: number) => l(code, null)),
    kill: () => void child.kill(),
  };
};

function projectFromArgs(): string {
  const i = process.argv.indexOf('--project');
  return i > 0 && process.argv[i + 1] ? path.resolve(process.argv[i + 1]) : (process.env.ARTIPHYS_PROJECT ?? defaultProjectPath());
}

async function createWindow(wb: Workbench): Promise<void> {
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'Artiphys',
    webPreferences: {
      preload: path.join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    },
  });
  const off = wb.onEvent((e) => {
    if (!win.isDestroyed()) win.webContents.send('artiphys:event', e);
  });
  win.on('closed', off);
  // Links never open inside the workbench window.
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  if (process.env.ELECTRON_RENDERER_URL) await win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else await win.loadFile(path.join(here, '../renderer/index.html'));
}

app.whenReady().then(async () => {
  let wb: Workbench;
  try {
    wb = Workbench.open({ launcher: launchUtilityEngine, projectPath: projectFromArgs(), create: true });
  } catch (err) {
    dialog.showErrorBox('Artiphys cannot open the project', err instanceof Error ? err.message : String(err));
    app.exit(1);
    return;
  }
  ipcMain.handle('artiphys:call', (_e, raw: unknown) => answer(wb, raw));
  ipcMain.handle('artiphys:pick-file', async (_e, kind: unknown) => {
    const filters =
      kind === 'project'
        ? [{ name: 'Artiphys project', extensions: ['artiphys'] }]
        : [{ name: 'Model', extensions: ['onnx', 'h5', 'json', 'safetensors'] }];
    const r = await dialog.showOpenDialog({ properties: ['openFile'], filters });
    return r.canceled ? null : r.filePaths[0];
  });
  app.on('window-all-closed', () => {
    wb.close();
    app.quit();
  });
  await createWindow(wb);
});
