// Counts in words: "1 unit", "3 units".

/** `n` and the word, with an "s" unless n is 1. */
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
