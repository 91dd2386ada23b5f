// Where the app keeps its files. Kept apart from the workbench so that the CLI can name them
// (in its help) without loading the services.
import os from 'node:os';
import path from 'node:path';

export const PROJECT_EXTENSION = '.artiphys';

/** The app's folder in the user's home (ARTIPHYS_HOME moves it). */
export function artiphysHome(): string {
  return process.env.ARTIPHYS_HOME ?? path.join(os.homedir(), '.artiphys');
}

/** Where the app keeps its default project when the user has not chosen one. */
export function defaultProjectPath(): string {
  return path.join(artiphysHome(), `default${PROJECT_EXTENSION}`);
}

/** Where zoo downloads go. */
export function modelsDir(): string {
  return path.join(artiphysHome(), 'models');
}
