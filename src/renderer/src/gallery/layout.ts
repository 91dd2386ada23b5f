// Fixed card geometry: the virtual grid computes rows and columns from it without measuring.
export const CARD_WIDTH = 216;
export const CARD_HEIGHT = 196;
export const CARD_GAP = 10;
export const THUMB_SIZE = 46;
export const THUMBS_PER_CARD = 4;
/** Metrics printed on a card (two columns); the detail panel lists them all. */
export const METRICS_PER_CARD = 8;
/** Rows rendered beyond the visible ones, above and below, so a short scroll shows no gap. */
export const OVERSCAN_ROWS = 1;
