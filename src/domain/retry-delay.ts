/** The wait before the next attempt after `failures` failed ones (≥ 1): `firstMs`, doubling, at most `capMs`. */
export function exponentialDelayMs(failures: number, firstMs: number, capMs: number): number {
  const n = Math.max(1, Math.floor(failures));
  return n > 40 ? capMs : Math.min(capMs, firstMs * 2 ** (n - 1));
}
