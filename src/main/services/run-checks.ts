// Settings checked against the model and the file system before a run is queued: an unknown layer,
// a unit or channel beyond the layer's channels, a missing or empty image folder are told at once
// (one clear message, nothing queued) instead of after the engine has started and loaded the network.
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../shared/api/contract';
import type { AnalysisKind } from '../../shared/analyses/registry';
import type { LayerInfo, ModelDetail } from '../../shared/domain';

/** Settings naming one layer, and the setting(s) naming channels of it. */
const LAYER_CHANNELS: Partial<Record<AnalysisKind, { layer: string; channels: string }>> = {
  'max-image': { layer: 'layer', channels: 'channel' },
  diverse: { layer: 'layer', channels: 'units' },
  'feature-vis': { layer: 'layer', channels: 'channels' },
};

/**
 * Settings that name a folder of images (or, for `labels`, a file) the engine reads; `nested`:
 * the engine also reads the folder's subfolders (an ImageNet layout).
 */
const PATHS: Partial<Record<AnalysisKind, { key: string; kind: 'folder' | 'file'; nested?: boolean }[]>> = {
  diverse: [{ key: 'normImages', kind: 'folder' }],
  shapes: [{ key: 'naturalImages', kind: 'folder' }],
  'scale-invariance': [{ key: 'images', kind: 'folder', nested: true }],
  'dataset-scan': [{ key: 'images', kind: 'folder', nested: true }],
  ablation: [
    { key: 'images', kind: 'folder', nested: true },
    { key: 'labels', kind: 'file' },
  ],
};

/** The image files every analysis reads. */
const IMAGE_FILE = /\.(jpe?g|png)$/i;

/** True when the folder (or, `nested`, one of its subfolders) holds a JPEG or PNG image. */
function holdsImages(dir: string, nested: boolean): boolean {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile() && IMAGE_FILE.test(entry.name)) return true;
  }
  if (!nested) return false;
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .some((entry) => entry.isDirectory() && holdsImages(path.join(dir, entry.name), true));
}

/** The CLI flag of a setting (`normImages` is `--norm-images`). */
function flag(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Throws ApiError('bad_request') naming the first setting that cannot work with this model. */
export function checkRunSettings(kind: AnalysisKind, s: Record<string, unknown>, model: ModelDetail): void {
  for (const { key, kind: what, nested } of PATHS[kind] ?? []) {
    const value = s[key];
    if (typeof value !== 'string' || value === '') continue;
    const stat = fs.statSync(value, { throwIfNoEntry: false });
    if (!stat) throw new ApiError('bad_request', `${flag(key)}: no ${what} at ${value}`);
    if (what === 'folder' && !stat.isDirectory()) throw new ApiError('bad_request', `${flag(key)}: ${value} is a file, not a folder of images`);
    if (what === 'file' && !stat.isFile()) throw new ApiError('bad_request', `${flag(key)}: ${value} is not a file`);
    if (what === 'folder' && !holdsImages(value, nested === true)) {
      throw new ApiError('bad_request', `${flag(key)}: the folder ${value} holds no JPEG or PNG images${nested ? ' (nor do its subfolders)' : ''}`);
    }
  }
  if (kind === 'dataset-scan') {
    if (!s.images) throw new ApiError('bad_request', 'dataset scan: give the folder of images (--images FOLDER)');
    if (Array.isArray(s.blocks) && s.blocks.length === 0) throw new ApiError('bad_request', 'dataset scan: choose at least one residual block (--blocks NAME,...)');
  }
  if (kind === 'ablation' && !s.images) throw new ApiError('bad_request', 'ablation: give the folder of evaluation images (--images FOLDER)');

  const layerOf = (name: string, key: string): LayerInfo => {
    const found = model.layers.find((l) => l.name === name);
    if (found) return found;
    const names = model.layers.map((l) => l.name);
    const shown = names.length > 12 ? `${names.slice(0, 12).join(', ')}, ... (${names.length} in all; "artiphys models inspect" lists them)` : names.join(', ');
    throw new ApiError('bad_request', `${flag(key)}: no layer "${name}" in model ${model.id}; its layers: ${shown || 'none'}`);
  };
  const spec = LAYER_CHANNELS[kind];
  if (spec && typeof s[spec.layer] === 'string') {
    const layer = layerOf(s[spec.layer] as string, spec.layer);
    const count = layer.shape.at(-1);
    const value = s[spec.channels];
    const asked = Array.isArray(value) ? (value as number[]) : typeof value === 'number' ? [value] : [];
    const beyond = count === undefined ? undefined : asked.find((c) => c >= count);
    if (beyond !== undefined) {
      throw new ApiError(
        'bad_request',
        `${flag(spec.channels)}: layer ${layer.name} of ${model.id} has ${count} channel${count === 1 ? '' : 's'} (0-${count! - 1}); ${beyond} is out of range`,
      );
    }
  }
  if (kind === 'diverse' && typeof s.distanceLayer === 'string' && s.distanceLayer !== 'pixels') layerOf(s.distanceLayer, 'distanceLayer');
  if (kind === 'shapes' && Array.isArray(s.layers)) for (const name of s.layers as string[]) layerOf(name, 'layers');
}
