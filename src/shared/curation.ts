// Types of the unit gallery and of curation (stars, tags, notes, collections, undo).
// A unit is one channel of one layer of one model; every analysis that measures it adds
// metrics and images to its card.

/** One unit's card: what the gallery grid shows and sorts by. */
export interface UnitCard {
  unitId: number;
  modelId: string;
  layer: string;
  channel: number;
  starred: boolean;
  tags: string[];
  /** The unit's note, empty when none. */
  note: string;
  /** Latest value of each metric across the runs that measured it (keys: UNIT_METRICS). */
  metrics: Record<string, number>;
  /** A few thumbnails, most telling first (diverse images at lambda*, visualizations, top images). */
  imageIds: number[];
  /** Runs that contributed to this card, newest first. */
  runIds: number[];
}

/** One metric a card can carry: how the gallery labels, filters and sorts it. */
export interface UnitMetricInfo {
  key: string;
  label: string;
  /** Analysis kinds that produce it. */
  kinds: string[];
}

/** Everything the gallery toolbar needs beside the cards. */
export interface GalleryPage {
  /** Cards matching the query, in the requested order. */
  cards: UnitCard[];
  /** Units in the project before filtering (the "of N" in "12 of 5,000"). */
  totalUnits: number;
  /** Metrics present on at least one card of the project. */
  metrics: UnitMetricInfo[];
  layers: { modelId: string; layer: string; units: number }[];
  tags: string[];
}

/** Every value a unit has, per run, for the detail and comparison views. */
export interface UnitDetail {
  card: UnitCard;
  runs: {
    runId: number;
    kind: string;
    title: string;
    metrics: Record<string, number>;
    images: { imageId: number; name: string }[];
  }[];
  collections: { id: number; name: string }[];
}

export interface CollectionSummary {
  id: number;
  name: string;
  /** Unit ids in the collection's order. */
  unitIds: number[];
  createdAt: string;
}

/** What an undo or redo did, in words ("removed tag texture from 3 units"), or null when there was nothing. */
export interface CurationStep {
  description: string | null;
  /** Whether another undo / redo is possible after this one. */
  canUndo: boolean;
  canRedo: boolean;
}
