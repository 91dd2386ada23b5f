// The narrow bridge between the sandboxed renderer and the main process: calls, events, a file
// picker, and the path of a dropped file. Nothing else of Electron or Node reaches the page.
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';

contextBridge.exposeInMainWorld('artiphys', {
  call: (method: string, params: unknown) => ipcRenderer.invoke('artiphys:call', { method, params }),
  onEvent: (listener: (event: unknown) => void) => {
    const wrapped = (_e: IpcRendererEvent, event: unknown) => listener(event);
    ipcRenderer.on('artiphys:event', wrapped);
    return () => ipcRenderer.removeListener('artiphys:event', wrapped);
  },
  pickFile: (kind: 'model' | 'project') => ipcRenderer.invoke('artiphys:pick-file', kind),
  // File.path is gone from recent Electron; webUtils gives a dropped file's path ('' when it has none).
  pathForFile: (file: File) => webUtils.getPathForFile(file),
});
