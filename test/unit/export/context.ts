// The slice of the workbench the data-export handlers see (handlers/types.ts), over a real
// project file: opening another project closes this one, as Workbench.switchTo does.
import type { ApiEvent } from '../../../src/shared/api/contract';
import { ProjectDb } from '../../../src/main/services/project-db';
import type { ServiceContext } from '../../../src/main/services/handlers/types';

export function projectContext(db: ProjectDb): ServiceContext & { events: ApiEvent[]; close(): void } {
  let project = db;
  const events: ApiEvent[] = [];
  return {
    get project() {
      return project;
    },
    events,
    emit: (e) => void events.push(e),
    openProject(file) {
      const next = ProjectDb.open(file);
      project.close();
      project = next;
      events.push({ type: 'project.changed', path: next.path });
      return next.info();
    },
    close: () => project.close(),
  };
}
