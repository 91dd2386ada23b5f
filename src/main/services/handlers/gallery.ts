// Gallery and curation handlers: reads go to the project's GalleryDb, mutations to its CurationDb
// (one undoable step each), and every mutation tells the clients that curation changed.
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

export function galleryHandlers(ctx: ServiceContext): HandlerGroup<GalleryMethod> {
  /** Runs a mutation and announces it (also a no-op: the clients' view is then simply current). */
  const changing = <T>(mutate: () => T): T => {
    const out = mutate();
    ctx.emit({ type: 'curation.changed' });
    return out;
  };
  return {
    'gallery.query': (p) => ctx.project.gallery.query(p),
    'units.get': (p) => ctx.project.gallery.unit(p.unitId),
    'curation.star': (p) => changing(() => ctx.project.curation.star(p.unitIds, p.starred)),
    'curation.tag': (p) => changing(() => ctx.project.curation.tag(p.unitIds, p.tag, p.add)),
    'curation.note': (p) => changing(() => ctx.project.curation.note(p.unitId, p.text)),
    'curation.undo': () => changing(() => ctx.project.curation.undo()),
    'curation.redo': () => changing(() => ctx.project.curation.redo()),
    'collections.list': () => ctx.project.curation.listCollections(),
    'collections.create': (p) => changing(() => ctx.project.curation.createCollection(p.name, p.unitIds)),
    'collections.update': (p) => changing(() => ctx.project.curation.updateCollection(p)),
    'collections.delete': (p) => changing(() => ctx.project.curation.deleteCollection(p.collectionId)),
  };
}
