import { performance } from 'node:perf_hooks';
import { createDataSource, runMigrations } from '../../libs/persistence/src';
import { LeaseKeeper, sessionOwnershipMigrations, type Lease, type LeaseLossReason } from '../../libs/sessions/src/ownership';
import { FAST, hangingLeases, leaseContract } from './lease-contract';

leaseContract('PGlite', async () => {
  const dataSource = await createDataSource({ migrations: sessionOwnershipMigrations });
  await dataSource.initialize();
  await runMigrations(dataSource);
  return { dataSource, destroy: () => dataSource.destroy() };
});

describe('lease keeper without answers from the database', () => {
  it('gives the session up at the local deadline when renewals hang', async () => {
    const started = performance.now();
    const lease: Lease = { sessionId: 's', owner: 'worker-a', epoch: 1, expiresAt: new Date(Date.now() + FAST.ttlMs), localDeadline: started + 400 };
    const lost = await new Promise<{ reason: LeaseLossReason; at: number }>((resolve) => {
      new LeaseKeeper(hangingLeases(), lease, { onLost: (reason) => resolve({ reason, at: performance.now() }) }).start();
    });
    expect(lost.reason).toBe('deadline');
    // Not before the deadline, and not long after it although no renewal ever answered.
    // Timers may fire a few ms early against performance.now().
    expect(lost.at).toBeGreaterThanOrEqual(lease.localDeadline - 10);
    expect(lost.at - lease.localDeadline).toBeLessThan(250);
  });
});
