// Copies non-TypeScript files the compiled code needs (the Python runner) next to it in dist/.
import { cpSync, mkdirSync } from 'node:fs';

mkdirSync('dist/src/runner', { recursive: true });
cpSync('src/runner/python', 'dist/src/runner/python', { recursive: true });
