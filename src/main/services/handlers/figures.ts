// Figure export handler.
import { ApiError } from '../../../shared/api/contract';
import type { HandlerGroup, ServiceContext } from './types';

export function figureHandlers(_ctx: ServiceContext): HandlerGroup<'export.figure'> {
  return {
    'export.figure': () => {
      throw new ApiError('internal', 'not built yet');
    },
  };
}
