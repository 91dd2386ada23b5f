// A clock for live durations and ETAs: one shared timer that ticks every second while any
// component watches it, and stops when none does.
import { onBeforeUnmount, ref, type Ref } from 'vue';

const TICK_MS = 1000;
const now = ref(Date.now());
let users = 0;
let timer: ReturnType<typeof setInterval> | null = null;

export function useNow(): Readonly<Ref<number>> {
  users++;
  if (timer === null) {
    now.value = Date.now();
    timer = setInterval(() => (now.value = Date.now()), TICK_MS);
  }
  onBeforeUnmount(() => {
    if (--users === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  });
  return now;
}
