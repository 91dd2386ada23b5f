// The files a model file needs beside it: a TensorFlow.js model.json's weight shards, an ONNX
// model's external data files. Each format's own module knows where its file names them; this
// only tells the formats apart. Kept free of TensorFlow.js so that the main process (project
// archives) can use it without loading the engine.
import fs from 'node:fs';
import { ModelFormatError } from '../errors';
import { onnxExternalDataLocations } from './onnx';
import { isObject } from '../../../shared/json';
import { tfjsShardPaths } from './tfjs-weights';

/**
 * Paths relative to the model file's folder, each once: what has to travel with the model when
 * it is copied. Files of other formats have none. Throws ModelFormatError where the file cannot
 * be parsed.
 */
export function modelCompanionFiles(file: string): string[] {
  const bytes = fs.readFileSync(file);
  // As the engine tells them apart (models/load.ts): a JSON object is TensorFlow.js; an ONNX
  // ModelProto starts with its ir_version field.
  if (bytes.toString('utf8', 0, 64).trimStart().startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw new ModelFormatError(`${file}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
    }
    return isObject(json) ? tfjsShardPaths(json.weightsManifest) : [];
  }
  if (bytes[0] === 0x08) return onnxExternalDataLocations(bytes, file);
  return [];
}
