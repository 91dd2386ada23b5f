// Data export (tables, run arrays) and project archives. Every exported data file carries its
// provenance (project, runs, config hash, app version).
import { ApiError } from '../../../shared/api/contract';
import type { ExportedFile } from '../../../shared/figures';
import { galleryTable, runTable, tableCsv, tableJson, type Table } from '../../../shared/tables';
import { exportProjectArchive, importProjectArchive } from '../../data-export/archive';
import { exportTarget, exportText } from '../../data-export/output';
import { writeRunArrays } from '../../data-export/run-arrays';
import { provenanceOf } from '../provenance';
import { galleryHandlers } from './gallery';
import type { HandlerGroup, ParsedParams, ServiceContext } from './types';

type DataMethod = 'export.table' | 'export.runArrays' | 'project.exportArchive' | 'project.importArchive';

const MIME = { csv: 'text/csv', json: 'application/json' } as const;

export function dataExportHandlers(ctx: ServiceContext): HandlerGroup<DataMethod> {
  const run = (id: number) => {
    const found = ctx.project.getRun(id);
    if (!found) throw new ApiError('not_found', `no run ${id} in this project`);
    return found;
  };
  const destination = (target: string | undefined) => exportTarget(ctx.project.path, target);
  // The gallery's own query code, so the exported table is the one the gallery shows.
  const gallery = galleryHandlers(ctx)['gallery.query'];

  /** The table asked for, the runs it comes from, and a file name stem. */
  async function tableFor(p: ParsedParams<'export.table'>): Promise<{ table: Table; runIds: number[]; stem: string }> {
    if ((p.runId === undefined) === (p.query === undefined)) {
      throw new ApiError('bad_request', 'export.table: give either runId (a run\'s summary table) or query (the gallery\'s units)');
    }
    if (p.runId !== undefined) {
      const r = run(p.runId);
      return { table: runTable(r.kind, ctx.project.listResults(r.id)), runIds: [r.id], stem: `run-${r.id}-${r.kind}` };
    }
    const page = await gallery(p.query!);
    return { table: galleryTable(page), runIds: page.cards.flatMap((c) => c.runIds), stem: 'gallery-units' };
  }

  return {
    'export.table': async (p): Promise<ExportedFile> => {
      const { table, runIds, stem } = await tableFor(p);
      const provenance = provenanceOf(ctx.project, runIds);
      const text = p.format === 'csv' ? tableCsv(table, provenance) : tableJson(table, provenance);
      return exportText({ fileName: `${stem}.${p.format}`, mime: MIME[p.format], provenance }, destination(p.path), (sink) => sink.write(text));
    },
    'export.runArrays': (p): ExportedFile => {
      const r = run(p.runId);
      const target = destination(p.path);
      const provenance = provenanceOf(ctx.project, [r.id]);
      const results = ctx.project.listResults(r.id);
      return exportText({ fileName: `run-${r.id}-${r.kind}-arrays.json`, mime: MIME.json, provenance }, target, (sink) =>
        writeRunArrays(sink, provenance, r, results),
      );
    },
    'project.exportArchive': (p) => exportProjectArchive(ctx.project, p.path),
    'project.importArchive': async (p) => {
      const imported = await importProjectArchive(p.archive, p.path);
      return ctx.openProject(imported.path);
    },
  };
}
