/**
 * The largest block glibc's allocator keeps for reuse once freed: its mmap threshold cannot be set
 * higher on 64-bit. The engine asks for it (engine-process.ts); a larger tensor is still mapped
 * afresh and faulted in page by page each time an op makes one (the forward chunks stay below it).
 */
export const KEPT_BLOCK_BYTES = 32 * 2 ** 20;
