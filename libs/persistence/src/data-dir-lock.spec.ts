import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { DataDirLock, DataDirLockedError } from './data-dir-lock';

const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'lock-'));

describe('DataDirLock', () => {
  it('refuses a directory held by a live process and names it', () => {
    const d = dir();
    // The parent of this test process is alive for the whole test.
    fs.writeFileSync(path.join(d, '.lock'), String(process.ppid));
    expect(() => DataDirLock.acquire(d)).toThrow(DataDirLockedError);
    expect(() => DataDirLock.acquire(d)).toThrow(String(process.ppid));
  });

  it('takes over a lock left by a dead process', () => {
    const d = dir();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    fs.writeFileSync(path.join(d, '.lock'), dead);
    const lock = DataDirLock.acquire(d);
    expect(fs.readFileSync(path.join(d, '.lock'), 'utf8')).toBe(String(process.pid));
    lock.release();
    expect(fs.existsSync(path.join(d, '.lock'))).toBe(false);
  });

  it('creates the directory with owner-only permissions', () => {
    const d = path.join(dir(), 'nested');
    const lock = DataDirLock.acquire(d);
    expect(fs.statSync(d).mode & 0o777).toBe(0o700);
    lock.release();
  });
});
