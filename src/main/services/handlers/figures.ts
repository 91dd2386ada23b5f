// Figure export: the spec's panels composed from the open project's stored results, rendered to
// SVG, PDF or PNG with the provenance of the runs they show.
import { composeFigure } from '../../figures/compose';
import type { FigureSource } from '../../figures/panels';
import { figurePdf, figurePng, figureSvg } from '../../figures/render';
import { exportBytes, exportTarget } from '../../data-export/output';
import { provenanceOf } from '../provenance';
import type { HandlerGroup, ServiceContext } from './types';

const MIME = { svg: 'image/svg+xml', pdf: 'application/pdf', png: 'image/png' } as const;

/** A file name from the figure's title, or from the runs it shows. */
function fileStem(title: string | undefined, runIds: number[]): string {
  const slug = (title ?? '').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-|-$/g, '').slice(0, 60);
  if (slug) return slug;
  if (!runIds.length) return 'figure';
  return runIds.length <= 3 ? `figure-run-${runIds.join('-')}` : `figure-${runIds.length}-runs`;
}

export function figureHandlers(ctx: ServiceContext): HandlerGroup<'export.figure'> {
  const source: FigureSource = {
    units: (ids, images, metrics) => ctx.project.gallery.figureUnits(ids, images, metrics),
    image: (id) => ctx.project.getImage(id),
  };
  return {
    'export.figure': async (p) => {
      const target = exportTarget(ctx.project.path, p.path);
      const spec = p.figure;
      const figure = composeFigure(spec, source);
      const provenance = provenanceOf(ctx.project, figure.runIds);
      const format = spec.format;
      const bytes =
        format === 'svg' ? await figureSvg(figure, provenance) : format === 'pdf' ? await figurePdf(figure, provenance) : figurePng(figure, spec.dpi, provenance);
      // IHDR: width and height are the first two fields of the first chunk.
      const pixels = format === 'png' ? { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) } : undefined;
      return exportBytes(
        {
          fileName: `${fileStem(spec.title, figure.runIds)}.${format}`,
          mime: MIME[format],
          provenance,
          widthPt: figure.widthPt,
          heightPt: figure.heightPt,
          ...(pixels ? { pixelWidth: pixels.width, pixelHeight: pixels.height } : {}),
        },
        target,
        bytes,
      );
    },
  };
}
