import fs from 'node:fs';
import path from 'node:path';

/** Walks up from this file to the project's package.json: the same code runs from source (tests) and from dist/. */
function readPackage(): { name: string; version: string } {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as { name: string; version: string };
    if (path.dirname(dir) === dir) return { name: 'wa-gateway', version: '0.0.0' };
  }
}

const pkg = readPackage();
export const SERVICE_NAME: string = pkg.name;
export const SERVICE_VERSION: string = pkg.version;
