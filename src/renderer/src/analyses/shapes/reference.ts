// The V4 reference and the shapes' APC boundary points, fetched from the workbench once per
// session (they are shipped data; the renderer cannot read files).
import { shallowRef, type ShallowRef } from 'vue';
import { api, describeError } from '../../api';
import { loadApcPoints, type ApcPoints } from '../../../../shared/math/apc';
import type { V4Reference } from '../../../../shared/v4-reference';

export interface ShapeReference {
  v4: V4Reference;
  points: ApcPoints;
}

let pending: Promise<ShapeReference> | null = null;

function fetchReference(): Promise<ShapeReference> {
  pending ??= Promise.all([api().call('reference.v4'), api().call('reference.apcPoints')]).then(([v4, pts]) => ({
    v4,
    points: loadApcPoints(pts),
  }));
  pending.catch(() => (pending = null));
  return pending;
}

/** The reference once loaded (null before); `error` says why it could not be loaded. */
export function useShapeReference(): { reference: ShallowRef<ShapeReference | null>; error: ShallowRef<string | null> } {
  const reference = shallowRef<ShapeReference | null>(null);
  const error = shallowRef<string | null>(null);
  fetchReference().then(
    (r) => (reference.value = r),
    (err: unknown) => (error.value = describeError(err)),
  );
  return { reference, error };
}
