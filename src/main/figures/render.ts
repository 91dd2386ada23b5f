// A composed figure as a file: SVG (fonts embedded as subsets), PDF (pdfkit, fonts embedded as
// subsets) or PNG (resvg) at a resolution, each carrying the figure's provenance in its own
// metadata: an SVG <metadata> element, a PDF Info entry, a PNG iTXt chunk; and its title in each
// format's own place for it: SVG <title>, PDF Info Title, PNG Title text chunk.
import zlib from 'node:zlib';
import { Resvg } from '@resvg/resvg-js';
import PDFDocument from 'pdfkit';
import SVGtoPDF from 'svg-to-pdfkit';
import { POINTS_PER_INCH, type Provenance } from '../../shared/figures';
import type { ComposedFigure } from './compose';
import { embeddedFontCss, FIGURE_FONT_FAMILY, fontPath } from './fonts';
import { esc, n } from './svg';

/** The key under which every format stores the provenance JSON. */
export const PROVENANCE_KEY = 'ArtiphysProvenance';

/** The figure as one SVG document; its size in the user's unit unless given (PDF wants plain points). */
function svgDocument(fig: ComposedFigure, provenance: Provenance, opts: { head?: string; size?: [string, string] } = {}): string {
  const [width, height] = opts.size ?? [fig.widthAttr, fig.heightAttr];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" version="1.1" ` +
      `width="${width}" height="${height}" viewBox="0 0 ${n(fig.widthPt)} ${n(fig.contentHeightPt)}" ` +
      `font-family="${FIGURE_FONT_FAMILY}">`,
    `<title>${esc(fig.title)}</title>`,
    `<metadata id="${PROVENANCE_KEY}">${esc(JSON.stringify(provenance))}</metadata>`,
    opts.head ?? '',
    `<rect x="0" y="0" width="${n(fig.widthPt)}" height="${n(fig.contentHeightPt)}" fill="#fff"/>`,
    fig.body,
    '</svg>',
    '',
  ].join('\n');
}

/** Every character the figure's text elements hold (its own and its charts'), entities decoded. */
function textCharacters(svg: string): string {
  const out: string[] = [];
  for (const m of svg.matchAll(/<(?:text|tspan)\b[^>]*>([^<]*)/g)) {
    out.push(
      m[1]
        .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
        .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&apos;/g, "'")
        .replace(/&amp;/g, '&'),
    );
  }
  return out.join('');
}

/** Browsers smooth scaled images unless told otherwise; a unit's 26-pixel image should stay sharp. */
const PIXELATED = 'image{image-rendering:pixelated}';

export async function figureSvg(fig: ComposedFigure, provenance: Provenance): Promise<Buffer> {
  const css = await embeddedFontCss(textCharacters(fig.body));
  return Buffer.from(svgDocument(fig, provenance, { head: `<defs><style>${css}\n${PIXELATED}</style></defs>` }), 'utf8');
}

export function figurePdf(fig: ComposedFigure, provenance: Provenance): Promise<Buffer> {
  const doc = new PDFDocument({
    size: [fig.widthPt, fig.heightPt],
    margin: 0,
    info: {
      Title: fig.title,
      Creator: `Artiphys ${provenance.appVersion}`,
      Subject: `runs ${provenance.runIds.join(', ') || 'none'}; config ${provenance.configHash}`,
    },
  });
  // pdfkit writes every Info key it is given; this one holds the whole provenance.
  (doc.info as unknown as Record<string, string>)[PROVENANCE_KEY] = JSON.stringify(provenance);
  doc.registerFont(FIGURE_FONT_FAMILY, fontPath('regular'));
  doc.registerFont(`${FIGURE_FONT_FAMILY} Bold`, fontPath('bold'));
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  // svg-to-pdfkit reads mm and inches at 96 px per inch, so the page gets its size in points.
  SVGtoPDF(doc, svgDocument(fig, provenance, { size: [n(fig.widthPt), n(fig.heightPt)] }), 0, 0, {
    width: fig.widthPt,
    height: fig.heightPt,
    assumePt: true,
    fontCallback: (_family, bold) => (bold ? `${FIGURE_FONT_FAMILY} Bold` : FIGURE_FONT_FAMILY),
    // Elements PDF has no use for (metadata, titles) are skipped with a warning; nothing to report.
    warningCallback: () => undefined,
  });
  doc.end();
  return done;
}

/** Pixel size of the PNG at `dpi`. */
function pngSize(fig: ComposedFigure, dpi: number): { width: number; height: number } {
  return { width: Math.round((fig.widthPt / POINTS_PER_INCH) * dpi), height: Math.round((fig.heightPt / POINTS_PER_INCH) * dpi) };
}

export function figurePng(fig: ComposedFigure, dpi: number, provenance: Provenance): Buffer {
  const size = pngSize(fig, dpi);
  const resvg = new Resvg(svgDocument(fig, provenance), {
    fitTo: { mode: 'width', value: size.width },
    font: { fontFiles: [fontPath('regular'), fontPath('bold')], loadSystemFonts: false, defaultFontFamily: FIGURE_FONT_FAMILY },
    background: '#ffffff',
  });
  const png = Buffer.from(resvg.render().asPng());
  // Title and Software where viewers look for them (tEXt); the provenance JSON always as UTF-8 (iTXt).
  return withPngChunks(png, dpi, { Title: fig.title, Software: `Artiphys ${provenance.appVersion}` }, { [PROVENANCE_KEY]: JSON.stringify(provenance) });
}

/**
 * The PNG with its resolution (pHYs, so page-layout programs place it at its printed size) and
 * text entries added, right after the header chunk: `text` as tEXt where it is Latin-1 (what
 * most viewers show) and `utf8` as uncompressed iTXt, as is any text Latin-1 cannot hold.
 */
function withPngChunks(png: Buffer, dpi: number, text: Record<string, string>, utf8: Record<string, string>): Buffer {
  const IHDR_END = 8 + 12 + 13;
  const chunks: Buffer[] = [];
  if (!chunkTypes(png).includes('pHYs')) {
    const phys = Buffer.alloc(9);
    const perMetre = Math.round(dpi / 0.0254);
    phys.writeUInt32BE(perMetre, 0);
    phys.writeUInt32BE(perMetre, 4);
    phys[8] = 1; // unit: metre
    chunks.push(pngChunk('pHYs', phys));
  }
  const latin1 = (v: string) => /^[\x20-\x7e\xa0-\xff\n]*$/.test(v);
  for (const [keyword, value] of Object.entries(text).filter(([, v]) => latin1(v))) {
    chunks.push(pngChunk('tEXt', Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0]), Buffer.from(value, 'latin1')])));
  }
  const international = { ...Object.fromEntries(Object.entries(text).filter(([, v]) => !latin1(v))), ...utf8 };
  for (const [keyword, value] of Object.entries(international)) {
    // keyword, NUL, compression flag 0, method 0, empty language tag and translated keyword (NUL each), text
    chunks.push(pngChunk('iTXt', Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0, 0, 0, 0, 0]), Buffer.from(value, 'utf8')])));
  }
  return Buffer.concat([png.subarray(0, IHDR_END), ...chunks, png.subarray(IHDR_END)]);
}

/** One PNG chunk: length, type, data and the CRC of type and data. */
function pngChunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(zlib.crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function chunkTypes(png: Buffer): string[] {
  const types: string[] = [];
  for (let at = 8; at + 8 <= png.length; at += 12 + png.readUInt32BE(at)) types.push(png.toString('latin1', at + 4, at + 8));
  return types;
}
