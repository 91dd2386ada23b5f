// Gallery and curation handlers.
import { ApiError } from '../../../shared/api/contract';
import type { HandlerGroup, ServiceContext } from './types';

type GalleryMethod =
  | 'gallery.query'
  | 'units.get'
  | 'curation.star'
  | 'curation.tag'
  | 'curation.note'
  | 'curation.undo'
  | 'curation.redo'
  | 'collections.list'
  | 'collections.create'
  | 'collections.update'
  | 'collections.delete';

const notYet = (): never => {
  throw new ApiError('internal', 'not built yet');
};

export function galleryHandlers(_ctx: ServiceContext): HandlerGroup<GalleryMethod> {
  return {
    'gallery.query': notYet,
    'units.get': notYet,
    'curation.star': notYet,
    'curation.tag': notYet,
    'curation.note': notYet,
    'curation.undo': notYet,
    'curation.redo': notYet,
    'collections.list': notYet,
    'collections.create': notYet,
    'collections.update': notYet,
    'collections.delete': notYet,
  };
}
