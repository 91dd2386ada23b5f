// Figure export (export.figure) on a real project file: the unit grid shows each unit's card
// images in the gallery's order (checked in the SVG's bytes and in the PNG's pixels), the SI–LC
// scatter puts one point per indexed unit where its values say, sizes come out in the unit asked
// for (SVG attributes, PDF points, PNG pixels and pHYs), fonts travel inside SVG and PDF, and every
// format carries the provenance of exactly the runs it draws.
import fs from 'node:fs';
import path from 'node:path';
import * as fontkit from 'fontkit';
import { PDFDocument, PDFDict, PDFHexString, PDFString } from 'pdf-lib';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { methodParams } from '../../../src/shared/api/contract';
import type { ExportedFile, FigureSpec, Provenance } from '../../../src/shared/figures';
import { figureHandlers } from '../../../src/main/services/handlers/figures';
import { ProjectDb } from '../../../src/main/services/project-db';
import { createGalleryProject, type GalleryProject } from '../../fixtures/gallery-project';
import { tempDir } from '../../helpers/temp';
import { projectContext } from './context';

const dir = tempDir('artiphys-figures-');
const UNITS = 12;
let fixture: GalleryProject;
let db: ProjectDb;
let exportFigure: (figure: FigureSpec, file?: string) => Promise<ExportedFile>;

beforeAll(() => {
  fixture = createGalleryProject(path.join(dir, 'lab.artiphys'), { units: UNITS, layer: 'conv2' });
  db = ProjectDb.open(fixture.file);
  const ctx = projectContext(db);
  const handler = figureHandlers(ctx)['export.figure'];
  exportFigure = (figure, file) => Promise.resolve(handler(methodParams['export.figure'].parse({ figure, ...(file ? { path: file } : {}) })));
  return () => ctx.close();
});

const bytesOf = (f: ExportedFile) => Buffer.from(f.base64, 'base64');
const cards = () => db.gallery.query(methodParams['gallery.query'].parse({ modelId: fixture.modelId, layer: fixture.layer })).cards;
const allUnitIds = () => cards().map((c) => c.unitId);

/** Attributes of every element `name` in an SVG, in document order. */
function elements(svg: string, name: string): Record<string, string>[] {
  return [...svg.matchAll(new RegExp(`<${name}\\b([^>]*)>`, 'g'))].map((m) =>
    Object.fromEntries([...m[1].matchAll(/([\w:-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]])),
  );
}

function svgProvenance(svg: string): Provenance {
  const text = /<metadata[^>]*>([^<]*)<\/metadata>/.exec(svg)![1].replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  return JSON.parse(text) as Provenance;
}

/** PNG chunks in file order with their raw data. */
function pngChunks(png: Buffer): { type: string; data: Buffer }[] {
  const out: { type: string; data: Buffer }[] = [];
  for (let at = 8; at + 8 <= png.length; at += 12 + png.readUInt32BE(at)) {
    out.push({ type: png.toString('latin1', at + 4, at + 8), data: png.subarray(at + 8, at + 8 + png.readUInt32BE(at)) });
  }
  return out;
}

/** Least-squares line through (x, y) pairs and its worst residual. */
function line(xs: number[], ys: number[]): { slope: number; worst: number } {
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const slope = xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return { slope, worst: Math.max(...xs.map((x, i) => Math.abs(my + slope * (x - mx) - ys[i]))) };
}

describe('export.figure', () => {
  it('a unit grid shows each unit\'s card images in the gallery\'s order, with no empty places', async () => {
    const units = cards().slice(0, 5);
    const svg = bytesOf(await exportFigure({ panels: [{ kind: 'units', unitIds: units.map((c) => c.unitId), imagesPerUnit: 4 }], format: 'svg' })).toString('utf8');
    const hrefs = elements(svg, 'image').map((a) => a['xlink:href']);
    const expected = units.flatMap((c) => c.imageIds.map((id) => `data:image/png;base64,${db.getImage(id)!.png.toString('base64')}`));
    expect(units.every((c) => c.imageIds.length === 4)).toBe(true);
    expect(hrefs).toEqual(expected);
    for (const c of units) expect(svg).toContain(`>conv2 · ${c.channel}</text>`);

    // Six asked, four images each: the layout has four places per unit, as wide as with four asked.
    const wide = bytesOf(await exportFigure({ panels: [{ kind: 'units', unitIds: units.map((c) => c.unitId), imagesPerUnit: 6 }], format: 'svg' })).toString('utf8');
    expect(elements(wide, 'image')).toHaveLength(units.length * 4);
    expect(elements(wide, 'rect').filter((r) => r.fill === 'none')).toHaveLength(0);
    expect(elements(wide, 'image').map((im) => [im.x, im.y, im.width])).toEqual(elements(svg, 'image').map((im) => [im.x, im.y, im.width]));
  });

  it('the PNG holds each unit image where the SVG places it, at the requested width in pixels', async () => {
    const units = cards().slice(0, 3);
    const figure: FigureSpec = { panels: [{ kind: 'units', unitIds: units.map((c) => c.unitId), imagesPerUnit: 4 }], preset: 'one-column', format: 'svg' };
    const svg = bytesOf(await exportFigure(figure)).toString('utf8');
    const dpi = 300;
    const pngFile = await exportFigure({ ...figure, format: 'png', dpi });
    const png = PNG.sync.read(bytesOf(pngFile));
    expect(png.width).toBe(Math.round((85 / 25.4) * dpi));
    expect(pngFile).toMatchObject({ pixelWidth: png.width, pixelHeight: png.height });
    const [, , viewWidth] = /viewBox="([^"]+)"/.exec(svg)![1].split(' ').map(Number);
    const scale = png.width / viewWidth;
    const placed = elements(svg, 'image');
    placed.forEach((im, i) => {
      const unit = units[Math.floor(i / 4)];
      // The fixture's images encode the channel in red and green, the image's role in blue; a
      // point off the white diagonal (row 6, column 2 of 8) shows them.
      const stored = PNG.sync.read(db.getImage(unit.imageIds[i % 4])!.png);
      const px = Math.floor((Number(im.x) + (2.5 / 8) * Number(im.width)) * scale);
      const py = Math.floor((Number(im.y) + (6.5 / 8) * Number(im.height)) * scale);
      const at = (py * png.width + px) * 4;
      const want = (6 * 8 + 2) * 4;
      expect([...png.data.subarray(at, at + 3)], `image ${i} at ${px},${py}`).toEqual([...stored.data.subarray(want, want + 3)]);
    });
  });

  it('the SI–LC scatter has one point per unit with both indices, placed linearly in SI and LC', async () => {
    const all = cards();
    const indexed = all.filter((c) => 'shiftInvariance' in c.metrics && 'linearCombination' in c.metrics);
    expect(indexed.length).toBeGreaterThan(3);
    const file = await exportFigure({ panels: [{ kind: 'si-lc', unitIds: all.map((c) => c.unitId) }], format: 'svg' });
    const svg = bytesOf(file).toString('utf8');
    const points = elements(svg, 'circle').filter((c) => c.class === 'artiphys-point');
    expect(points.map((p) => Number(p['data-unit']))).toEqual(indexed.map((c) => c.unitId));
    const x = line(indexed.map((c) => c.metrics.shiftInvariance), points.map((p) => Number(p.cx)));
    const y = line(indexed.map((c) => c.metrics.linearCombination), points.map((p) => Number(p.cy)));
    expect(x.slope).toBeGreaterThan(0);
    expect(y.slope, 'LC grows upwards').toBeLessThan(0);
    expect(Math.max(x.worst, y.worst), 'rounded to 0.01 pt').toBeLessThan(0.01);
    if (indexed.length < all.length) expect(svg).toContain(`${indexed.length} of ${all.length} units have SI and LC`);
    // One unit is "1 unit", and the one point it has "has" them.
    const one = bytesOf(await exportFigure({ panels: [{ kind: 'si-lc', unitIds: [indexed[0].unitId, all.find((c) => !indexed.includes(c))!.unitId] }], format: 'svg' })).toString('utf8');
    expect(one).toContain('1 of 2 units has SI and LC');
    // The scatter draws the diverse run's values and nothing of the feature-vis run.
    expect(file.provenance.runIds).toEqual([fixture.diverseRunId]);
  });

  it('sizes come out in the unit asked for: SVG attributes, PDF points, a fixed height scales the content into it', async () => {
    const panels: FigureSpec['panels'] = [
      { kind: 'units', unitIds: allUnitIds().slice(0, 4) },
      { kind: 'si-lc', unitIds: allUnitIds() },
    ];
    const svg = bytesOf(await exportFigure({ panels, columns: 2, preset: 'two-column', format: 'svg' })).toString('utf8');
    const root = elements(svg, 'svg')[0];
    expect(root.width).toBe('174mm');
    const [, , vw, vh] = root.viewBox.split(' ').map(Number);
    expect(vw).toBeCloseTo((174 / 25.4) * 72, 1);
    // An automatic height keeps the viewBox's aspect.
    expect(parseFloat(root.height) / 174).toBeCloseTo(vh / vw, 4);

    const pdfFile = await exportFigure({ panels, width: 3.5, height: 2, unit: 'in', format: 'pdf' });
    const pdf = await PDFDocument.load(bytesOf(pdfFile), { updateMetadata: false });
    expect(pdf.getPageCount()).toBe(1);
    const page = pdf.getPage(0).getSize();
    expect(page.width).toBeCloseTo(252, 2);
    expect(page.height).toBeCloseTo(144, 2);
    expect(pdfFile).toMatchObject({ widthPt: expect.closeTo(252, 2), heightPt: expect.closeTo(144, 2) });

    const pngFile = await exportFigure({ panels, width: 100, height: 50, unit: 'mm', format: 'png', dpi: 200 });
    const png = bytesOf(pngFile);
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([Math.round((100 / 25.4) * 200), Math.round((50 / 25.4) * 200)]);
    const phys = pngChunks(png).find((c) => c.type === 'pHYs')!.data;
    expect([phys.readUInt32BE(0), phys.readUInt32BE(4), phys[8]]).toEqual([Math.round(200 / 0.0254), Math.round(200 / 0.0254), 1]);
  });

  it('SVG and PDF carry their fonts: SVG subsets that hold every character shown, PDF embedded subsets', async () => {
    const panels: FigureSpec['panels'] = [
      { kind: 'units', unitIds: allUnitIds().slice(0, 2), title: 'Texture units λ* — conv2' },
      { kind: 'si-lc', unitIds: allUnitIds() },
    ];
    const svg = bytesOf(await exportFigure({ title: 'Figure 3', panels, format: 'svg' })).toString('utf8');
    const faces = [...svg.matchAll(/font-weight:(\d+);src:url\(data:font\/ttf;base64,([^)]+)\)/g)];
    expect(faces.map((f) => f[1])).toEqual(['400', '700']);
    const shown = [...svg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((m) => m[1].replace(/&amp;/g, '&')).join('');
    for (const [, , base64] of faces) {
      const font = fontkit.create(Buffer.from(base64, 'base64')) as unknown as { familyName: string; hasGlyphForCodePoint(c: number): boolean };
      expect(font.familyName).toBe('DejaVu Sans');
      const lacking = [...new Set(shown)].filter((ch) => !font.hasGlyphForCodePoint(ch.codePointAt(0)!));
      expect(lacking).toEqual([]);
    }
    expect(shown).toContain('Texture units λ* — conv2');
    expect(svg.length, 'subsets, not the 0.7 MB font files').toBeLessThan(200_000);

    const pdf = bytesOf(await exportFigure({ title: 'Figure 3', panels, format: 'pdf' })).toString('latin1');
    expect(pdf).toMatch(/\/BaseFont \/[A-Z]{6}\+DejaVuSans\b/);
    expect(pdf).toMatch(/\/BaseFont \/[A-Z]{6}\+DejaVuSans-Bold\b/);
    expect((pdf.match(/\/FontFile2 /g) ?? []).length).toBe(2);
  });

  it('every format carries the provenance of the runs it draws, the hash the table export gives too', async () => {
    const unitIds = allUnitIds().slice(0, 3);
    const panels: FigureSpec['panels'] = [{ kind: 'units', unitIds }, { kind: 'si-lc', unitIds }];
    const runs = [fixture.featureVisRunId, fixture.diverseRunId].sort((a, b) => a - b);
    const svgFile = await exportFigure({ panels, format: 'svg' });
    expect(svgFile.provenance).toMatchObject({ app: 'Artiphys', project: fixture.file, runIds: runs });
    expect(svgFile.provenance.configHash).toMatch(/^[0-9a-f]{64}$/);
    expect(svgProvenance(bytesOf(svgFile).toString('utf8'))).toEqual(svgFile.provenance);

    const pdfFile = await exportFigure({ panels, format: 'pdf' });
    const pdf = await PDFDocument.load(bytesOf(pdfFile), { updateMetadata: false });
    const info = pdf.context.lookup(pdf.context.trailerInfo.Info, PDFDict);
    const entry = [...info.entries()].find(([k]) => k.decodeText() === 'ArtiphysProvenance')![1];
    const value = pdf.context.lookup(entry) as PDFString | PDFHexString;
    expect(JSON.parse(value.decodeText())).toEqual(pdfFile.provenance);

    const pngFile = await exportFigure({ panels, format: 'png', dpi: 72 });
    const itxt = pngChunks(bytesOf(pngFile)).filter((c) => c.type === 'iTXt').map((c) => c.data);
    const provenanceChunk = itxt.find((d) => d.toString('latin1').startsWith('ArtiphysProvenance\0'))!;
    expect(JSON.parse(provenanceChunk.subarray('ArtiphysProvenance'.length + 5).toString('utf8'))).toEqual(pngFile.provenance);
    // Same runs, same settings: the same hash in every format.
    expect(new Set([svgFile, pdfFile, pngFile].map((f) => f.provenance.configHash)).size).toBe(1);
  });

  it('every format names the figure by its own title: SVG <title>, PDF Info Title, PNG Title text', async () => {
    const panels: FigureSpec['panels'] = [{ kind: 'units', unitIds: allUnitIds().slice(0, 2) }];
    const svg = bytesOf(await exportFigure({ title: 'Figure 3: texture & shape units', panels, format: 'svg' })).toString('utf8');
    expect(/<svg\b[^>]*>\s*<title>([^<]*)<\/title>/.exec(svg)?.[1]).toBe('Figure 3: texture &amp; shape units');
    const pdf = await PDFDocument.load(bytesOf(await exportFigure({ title: 'Figure 3: texture & shape units', panels, format: 'pdf' })), { updateMetadata: false });
    expect(pdf.getTitle()).toBe('Figure 3: texture & shape units');
    const png = bytesOf(await exportFigure({ title: 'Figure 3: texture & shape units', panels, format: 'png', dpi: 72 }));
    const text = pngChunks(png).filter((c) => c.type === 'tEXt').map((c) => c.data.toString('latin1'));
    expect(text).toContain('Title\0Figure 3: texture & shape units');
    // A title Latin-1 cannot hold goes into an iTXt chunk, as UTF-8.
    const greek = bytesOf(await exportFigure({ title: 'λ* units', panels, format: 'png', dpi: 72 }));
    const itxt = pngChunks(greek).filter((c) => c.type === 'iTXt').map((c) => c.data);
    expect(itxt.some((d) => d.toString('latin1').startsWith('Title\0') && d.subarray('Title'.length + 5).toString('utf8') === 'λ* units')).toBe(true);
  });

  it('a chart panel is nested as an svg element with its drawing and text, credited to its runs', async () => {
    const chart =
      '<?xml version="1.0"?><svg width="300" height="200" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 200">' +
      '<path d="M0 0L300 200" stroke="#000"/><text x="10" y="20" style="font-family:DejaVu Sans">activation a(λ) on = 1</text></svg>';
    const file = await exportFigure({ panels: [{ kind: 'svg', svg: chart, runIds: [fixture.diverseRunId] }], width: 120, format: 'svg' });
    const svg = bytesOf(file).toString('utf8');
    const nested = elements(svg, 'svg')[1];
    expect(nested.viewBox).toBe('0 0 300 200');
    expect(Number(nested.height) / Number(nested.width)).toBeCloseTo(200 / 300, 3);
    expect(svg).toContain('<path d="M0 0L300 200" stroke="#000"/>');
    expect(svg).toContain('activation a(λ) on = 1</text>');
    expect(file.provenance.runIds).toEqual([fixture.diverseRunId]);
  });

  it('writes to a path only when complete; bad panels and the project\'s own file are refused, writing nothing', async () => {
    const out = path.join(dir, 'figures', 'units.pdf');
    const written = await exportFigure({ panels: [{ kind: 'units', unitIds: allUnitIds().slice(0, 2) }], format: 'pdf' }, out);
    expect(written).toMatchObject({ path: out, fileName: 'units.pdf', base64: '', bytes: fs.statSync(out).size });
    expect(fs.readdirSync(path.dirname(out))).toEqual(['units.pdf']);

    await expect(exportFigure({ panels: [{ kind: 'units', unitIds: [9999] }], format: 'svg' })).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining('9999') });
    await expect(exportFigure({ panels: [{ kind: 'images', imageIds: [1, 99999] }], format: 'svg' })).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining('99999') });
    await expect(exportFigure({ panels: [{ kind: 'svg', svg: '<div>no chart</div>' }], format: 'svg' })).rejects.toMatchObject({ code: 'bad_request' });
    await expect(
      exportFigure({ panels: [{ kind: 'svg', svg: '<svg width="10" height="10"><script>alert(1)</script></svg>' }], format: 'svg' }),
    ).rejects.toMatchObject({ code: 'bad_request', message: expect.stringContaining('scripts') });
    await expect(
      exportFigure({ panels: [{ kind: 'svg', svg: '<svg width="10" height="10"><rect width="5" height="5" onclick="alert(1)"/></svg>' }], format: 'svg' }),
    ).rejects.toMatchObject({ code: 'bad_request', message: expect.stringContaining('event handlers') });
    const bad = path.join(dir, 'figures', 'bad.svg');
    await expect(exportFigure({ panels: [{ kind: 'units', unitIds: [9999] }], format: 'svg' }, bad)).rejects.toMatchObject({ code: 'not_found' });
    await expect(exportFigure({ panels: [{ kind: 'units', unitIds: [1] }], format: 'svg' }, fixture.file)).rejects.toMatchObject({ code: 'bad_request' });
    expect(fs.readdirSync(path.dirname(out))).toEqual(['units.pdf']);
  });
});
