// Writes a .gz sibling for every js/css/html/svg file in dist/ so the hub can
// serve precompressed files to clients that accept gzip.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, constants } from 'node:zlib';

const root = new URL('../dist/', import.meta.url).pathname;
let total = 0;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { walk(p); continue; }
    if (!/\.(js|css|html|svg)$/.test(name)) continue;
    const gz = gzipSync(readFileSync(p), { level: constants.Z_BEST_COMPRESSION });
    writeFileSync(p + '.gz', gz);
    if (/\.(js|css)$/.test(name)) total += gz.length;
  }
}
walk(root);
console.log(`gzip JS+CSS: ${(total / 1024).toFixed(1)} KiB`);
if (total > 300 * 1024) { console.error('gzip JS+CSS over the 300 KB budget'); process.exit(1); }
