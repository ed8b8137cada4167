import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { queueContract } from './queue-contract';

// PGlite needs no service: it runs in this process on a temporary data directory
// (a directory rather than memory so the restart and crash tests can reopen it).
describe('database driver on PGlite', () => {
  queueContract('database driver on PGlite', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'queue-pglite-'));
    return {
      spec: { driver: 'pglite', dataDir },
      exclusive: true,
      destroy: () => rm(dataDir, { recursive: true, force: true }),
    };
  });
});
