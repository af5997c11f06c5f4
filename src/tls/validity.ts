/** How long certificates made by `scrapydd cert` are valid, in days, unless --days says otherwise. */
export const CA_DAYS = 3650;
export const LEAF_DAYS = 825;
