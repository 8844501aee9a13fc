// Copies Swagger UI (the npm package swagger-ui-dist, pinned in package.json)
// into dist/api-docs/ with .gz siblings, so the hub's /api/docs page works on
// an air-gapped LAN: no CDN, no fonts or scripts from the internet. Kept out
// of the dashboard's gzip budget (scripts/gzip.mjs): it loads only on /api/docs.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync, constants } from 'node:zlib';

const require = createRequire(import.meta.url);
const src = dirname(require.resolve('swagger-ui-dist/package.json'));
const out = new URL('../dist/api-docs/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });
for (const name of ['swagger-ui-bundle.js', 'swagger-ui.css', 'LICENSE', 'NOTICE']) {
  copyFileSync(join(src, name), join(out, name));
  if (/\.(js|css)$/.test(name)) {
    writeFileSync(join(out, name) + '.gz',
      gzipSync(readFileSync(join(out, name)), { level: constants.Z_BEST_COMPRESSION }));
  }
}
const version = JSON.parse(readFileSync(join(src, 'package.json'), 'utf8')).version;
console.log(`api-docs: swagger-ui-dist ${version} copied to dist/api-docs/`);
