// `artiphys export figure|table|arrays` and `artiphys project export|import`: the files the desktop
// app's export buttons write, made headless through the same API methods.
import path from 'node:path';
import { ApiError, galleryQuery, type GalleryQuery } from '../../shared/api/contract';
import type { CollectionSummary } from '../../shared/curation';
import { FIGURE_PRESETS, type ExportedFile, type FigurePreset, type FigureSpec, type PanelSpec } from '../../shared/figures';
import { importProjectArchive } from '../data-export/archive';
import { ProjectDb } from '../services/project-db';
import type { ParsedArgs } from './args';
import { call, openForReading, out, type ProjectReader } from './common';

export const EXPORT_HELP = `  export figure (--collection NAME | --units 1,2,3) --out FILE [--panels units,si-lc]
         [--preset one-column|one-and-half-column|two-column | --width 174 --unit mm|in]
         [--format svg|pdf|png] [--dpi 300] [--columns N] [--title T] [--project P]
                                 a figure of units (format from --format or the file's extension)
  export table (--run ID | --layer L [--model M] [--collection NAME]) --out FILE [--format csv|json]
                                 a run's summary table, or the gallery's units x metrics
  export arrays --run ID --out FILE
                                 every result of a run with its arrays as numbers (JSON)
  project export --out FILE.artiphys-archive [--project P]
                                 the project and the model files it uses, in one archive
  project import ARCHIVE --to FILE.artiphys
                                 unpacks an archive into a new project (models beside it)`;

function required(args: ParsedArgs, flag: string, usage: string): string {
  const v = args.flags[flag];
  if (typeof v !== 'string' || !v) throw new ApiError('bad_request', `--${flag} is required: ${usage}`);
  return v;
}

function integer(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new ApiError('bad_request', `--${flag} takes a positive integer, not "${value}"`);
  return n;
}

/** The format a flag names, or the one the output file's extension implies. */
function formatOf<F extends string>(args: ParsedArgs, file: string, formats: readonly F[]): F {
  const named = typeof args.flags.format === 'string' ? args.flags.format : path.extname(file).slice(1).toLowerCase();
  if (!(formats as readonly string[]).includes(named)) {
    throw new ApiError('bad_request', `--format ${named || '(none)'}: choose ${formats.join(' or ')} (or give the file that extension)`);
  }
  return named as F;
}

async function collection(wb: ProjectReader, name: string): Promise<CollectionSummary> {
  const all = await call(wb, 'collections.list');
  const found = all.find((c) => c.name.toLowerCase() === name.toLowerCase());
  if (!found) throw new ApiError('not_found', `no collection "${name}"; collections: ${all.map((c) => c.name).join(', ') || 'none yet'}`);
  return found;
}

function printExported(args: ParsedArgs, file: ExportedFile): void {
  const { base64: _base64, ...doc } = file;
  out(args, doc, () => `wrote ${file.path} (${file.bytes} bytes; runs ${file.provenance.runIds.join(', ') || '-'}, config ${file.provenance.configHash.slice(0, 12)})`);
}

const FIGURE_USAGE = 'artiphys export figure (--collection NAME | --units 1,2,3) --out FILE [--panels units,si-lc]';

async function figureSpec(wb: ProjectReader, args: ParsedArgs, file: string): Promise<FigureSpec> {
  let unitIds: number[];
  if (typeof args.flags.collection === 'string') {
    unitIds = (await collection(wb, args.flags.collection)).unitIds;
    if (unitIds.length === 0) throw new ApiError('bad_request', `collection "${args.flags.collection}" has no units`);
  } else if (typeof args.flags.units === 'string') {
    unitIds = args.flags.units.split(',').map((u) => integer(u.trim(), 'units'));
  } else {
    throw new ApiError('bad_request', `give --collection or --units: ${FIGURE_USAGE}`);
  }
  const kinds = (typeof args.flags.panels === 'string' ? args.flags.panels : 'units').split(',').map((k) => k.trim());
  const panels: PanelSpec[] = kinds.map((kind) => {
    if (kind === 'units') return { kind, unitIds };
    if (kind === 'si-lc') return { kind, unitIds };
    throw new ApiError('bad_request', `--panels: unknown panel "${kind}" (units, si-lc)`);
  });
  const preset = typeof args.flags.preset === 'string' ? args.flags.preset : undefined;
  if (preset !== undefined && !(preset in FIGURE_PRESETS)) {
    throw new ApiError('bad_request', `--preset ${preset}: choose ${Object.keys(FIGURE_PRESETS).join(', ')}`);
  }
  const unit = typeof args.flags.unit === 'string' ? args.flags.unit : 'mm';
  if (unit !== 'mm' && unit !== 'in') throw new ApiError('bad_request', `--unit ${unit}: choose mm or in`);
  return {
    panels,
    format: formatOf(args, file, ['svg', 'pdf', 'png'] as const),
    unit,
    ...(preset ? { preset: preset as FigurePreset } : {}),
    ...(args.flags.width !== undefined ? { width: Number(args.flags.width) } : {}),
    ...(args.flags.height !== undefined ? { height: Number(args.flags.height) } : {}),
    ...(args.flags.dpi !== undefined ? { dpi: integer(String(args.flags.dpi), 'dpi') } : {}),
    ...(args.flags.columns !== undefined ? { columns: integer(String(args.flags.columns), 'columns') } : {}),
    ...(typeof args.flags.title === 'string' ? { title: args.flags.title } : {}),
  };
}

export async function exportCommand(sub: string | undefined, args: ParsedArgs): Promise<number> {
  if (sub !== 'figure' && sub !== 'table' && sub !== 'arrays') {
    throw new ApiError('bad_request', 'usage: artiphys export figure|table|arrays ... --out FILE ("artiphys --help" shows the options)');
  }
  const file = path.resolve(required(args, 'out', `artiphys export ${sub} ... --out FILE`));
  const wb = await openForReading(args);
  try {
    if (sub === 'figure') {
      const figure = await figureSpec(wb, args, file);
      printExported(args, await call(wb, 'export.figure', { figure, path: file }));
    } else if (sub === 'table') {
      const format = formatOf(args, file, ['csv', 'json'] as const);
      if (args.flags.run !== undefined) {
        printExported(args, await call(wb, 'export.table', { format, runId: integer(String(args.flags.run), 'run'), path: file }));
      } else if (typeof args.flags.layer === 'string' || typeof args.flags.collection === 'string') {
        const query: GalleryQuery = {
          ...(typeof args.flags.layer === 'string' ? { layer: args.flags.layer } : {}),
          ...(typeof args.flags.model === 'string' ? { modelId: args.flags.model } : {}),
          ...(typeof args.flags.collection === 'string' ? { collectionId: (await collection(wb, args.flags.collection)).id } : {}),
        };
        printExported(args, await call(wb, 'export.table', { format, query: galleryQuery.parse(query), path: file }));
      } else {
        throw new ApiError('bad_request', 'give --run ID (a run\'s table) or --layer L [--model M] (the gallery\'s units)');
      }
    } else {
      printExported(args, await call(wb, 'export.runArrays', { runId: integer(String(required(args, 'run', 'artiphys export arrays --run ID --out FILE')), 'run'), path: file }));
    }
  } finally {
    wb.close();
  }
  return 0;
}

/** `project export` / `project import`. */
export async function projectArchiveCommand(sub: 'export' | 'import', args: ParsedArgs): Promise<number> {
  if (sub === 'export') {
    const file = path.resolve(required(args, 'out', 'artiphys project export --out FILE.artiphys-archive [--project P]'));
    const wb = await openForReading(args);
    try {
      const r = await call(wb, 'project.exportArchive', { path: file });
      out(args, r, () => [`wrote ${r.path} (${r.bytes} bytes)`, ...r.files.map((f) => `  ${f}`)].join('\n'));
    } finally {
      wb.close();
    }
    return 0;
  }
  const archive = args.positional[2];
  const usage = 'artiphys project import ARCHIVE --to FILE.artiphys';
  if (!archive) throw new ApiError('bad_request', `usage: ${usage}`);
  // No project needs to be open to import one: the archive code the API uses, then the new file opened once.
  const imported = await importProjectArchive(path.resolve(archive), path.resolve(required(args, 'to', usage)));
  const db = ProjectDb.open(imported.path);
  const info = db.info();
  db.close();
  out(args, { ...info, modelFiles: imported.modelFiles }, () =>
    [`imported ${info.path} (schema ${info.schemaVersion})`, ...Object.entries(info.counts).map(([k, v]) => `  ${k}: ${v}`), ...imported.modelFiles.map((f) => `  model file ${f}`)].join('\n'),
  );
  return 0;
}
