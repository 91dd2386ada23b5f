// What a group of API handlers sees of the workbench, so each area (gallery, figures, data export)
// keeps its handlers in a file of its own.
import type { z } from 'zod';
import type { ApiEvent, Method, MethodResults, ProjectInfo, methodParams } from '../../../shared/api/contract';
import type { ProjectDb } from '../project-db';

export interface ServiceContext {
  /** The open project; it changes when the user opens another, so read it at each call. */
  readonly project: ProjectDb;
  emit(e: ApiEvent): void;
  /** Closes the open project and opens `file` (the runner follows). */
  openProject(file: string): ProjectInfo;
}

export type ParsedParams<M extends Method> = z.output<(typeof methodParams)[M]>;

/** Handlers of some methods; the workbench spreads the groups into one table. */
export type HandlerGroup<M extends Method> = {
  [K in M]: (params: ParsedParams<K>) => Promise<MethodResults[K]> | MethodResults[K];
};
