// Bundles the web UI (src/web, Preact + TSX) with esbuild into dist/web:
// assets/ with content-hashed names and an index.html that loads them
// (no inline script or style: the server's CSP allows only 'self').
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import * as esbuild from 'esbuild';

const outdir = 'dist/web';
rmSync(outdir, { recursive: true, force: true });
mkdirSync(`${outdir}/assets`, { recursive: true });

const result = await esbuild.build({
  entryPoints: ['src/web/main.tsx'],
  bundle: true,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: 'linked',
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  outdir: `${outdir}/assets`,
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const outputs = Object.entries(result.metafile.outputs);
const entry = outputs.find(([, o]) => o.entryPoint === 'src/web/main.tsx');
if (!entry) throw new Error('esbuild produced no bundle for src/web/main.tsx');
const [jsPath, jsOut] = entry;
const cssPath = jsOut.cssBundle;

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>scrapydd</title>
${cssPath ? `<link rel="stylesheet" href="/ui/assets/${basename(cssPath)}">\n` : ''}<script type="module" src="/ui/assets/${basename(jsPath)}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The scrapydd web UI needs JavaScript.</noscript>
</body>
</html>
`;
writeFileSync(`${outdir}/index.html`, html);
