// Evaluation images with ImageNet class labels (METHODS §8): a folder in ImageNet layout
// (`<wnid>/<file>`), files whose names start with their wnid (`n01440764_tench.JPEG`), or a CSV
// of `file,label` where the label is a class index or a wnid.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { imagenetClassIndex } from '../../../shared/imagenet-classes';

export interface LabelledImage {
  file: string;
  label: number;
}

const IMAGE = /\.(jpe?g|png)$/i;
const WNID = /^n\d{8}$/;

export function listImages(dir: string): string[] {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new Error(`image folder ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new Error(`${dir} is not a folder`);
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (IMAGE.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  if (out.length === 0) throw new Error(`image folder ${dir} holds no JPEG or PNG images`);
  return out;
}

function classOf(label: string, where: string): number {
  const t = label.trim();
  if (/^\d+$/.test(t) && Number(t) < 1000) return Number(t);
  const i = WNID.test(t) ? imagenetClassIndex(t) : undefined;
  if (i === undefined) throw new Error(`${where}: "${t}" is neither an ImageNet class index (0-999) nor an ImageNet-1k wnid`);
  return i;
}

/** Labels from the folder layout or the file names. */
export function labelsFromNames(dir: string): LabelledImage[] {
  return listImages(dir).map((file) => {
    const parent = path.basename(path.dirname(file));
    const prefix = /^(n\d{8})(?:[_.-]|$)/.exec(path.basename(file))?.[1];
    const wnid = WNID.test(parent) ? parent : prefix;
    if (!wnid) throw new Error(`${file}: no ImageNet label (neither a <wnid>/ folder nor a <wnid>_ file name); give a labels CSV`);
    return { file, label: classOf(wnid, file) };
  });
}

/** Labels from a CSV with a header: a `file` column and a `class_index`, `label` or `wnid` column. */
export function labelsFromCsv(csv: string, dir: string): LabelledImage[] {
  const lines = readFileSync(csv, 'utf8').split(/\r?\n/).filter((l) => l.trim());
  const header = lines[0]?.split(',').map((h) => h.trim().toLowerCase()) ?? [];
  const fileCol = header.indexOf('file');
  const labelCol = ['class_index', 'label', 'wnid'].map((h) => header.indexOf(h)).find((i) => i >= 0);
  if (fileCol < 0 || labelCol === undefined) throw new Error(`${csv}: the header needs a "file" column and a "class_index", "label" or "wnid" column`);
  return lines.slice(1).map((line, k) => {
    const cells = line.split(',');
    const file = path.resolve(dir, cells[fileCol]?.trim() ?? '');
    if (!IMAGE.test(file)) throw new Error(`${csv} line ${k + 2}: "${cells[fileCol]}" is not a JPEG or PNG file`);
    return { file, label: classOf(cells[labelCol] ?? '', `${csv} line ${k + 2}`) };
  });
}
