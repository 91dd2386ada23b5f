// Data export (tables, run arrays) and project archives.
import { ApiError } from '../../../shared/api/contract';
import type { HandlerGroup, ServiceContext } from './types';

type DataMethod = 'export.table' | 'export.runArrays' | 'project.exportArchive' | 'project.importArchive';

const notYet = (): never => {
  throw new ApiError('internal', 'not built yet');
};

export function dataExportHandlers(_ctx: ServiceContext): HandlerGroup<DataMethod> {
  return { 'export.table': notYet, 'export.runArrays': notYet, 'project.exportArchive': notYet, 'project.importArchive': notYet };
}
