/** Every migration, in order. Migrations are immutable once released: add new ones. */
import { Initial1764000000001 } from './0001-initial.js';

export const migrations = [Initial1764000000001];
