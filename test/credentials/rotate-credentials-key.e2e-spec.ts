import { randomBytes } from 'node:crypto';
import { createDataSource, runMigrations } from '../../libs/persistence/src';
import { DatabaseSessionLeases, sessionOwnershipMigrations } from '../../libs/sessions/src/ownership';
import { authStateMigrations, CredentialsKeyring, DatabaseAuthStateStore } from '../../libs/whatsapp/src/auth-state';
import { spawnGateway } from '../support/gateway';
import { createTestDatabase, describeWithServices } from '../support/services';

describeWithServices(['postgres'], 'npm run rotate-credentials-key', () => {
  it('re-wraps every session under the new key, prints counts and no key material', async () => {
    const database = await createTestDatabase('rotate');
    const ds = await createDataSource({ databaseUrl: database.url, migrations: [...sessionOwnershipMigrations, ...authStateMigrations] });
    try {
      await ds.initialize();
      await runMigrations(ds);
      const oldKey = randomBytes(32);
      const newKey = randomBytes(32);
      const leases = new DatabaseSessionLeases(ds);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const [{ id }] = await ds.query(`INSERT INTO sessions (label) VALUES ('rotate') RETURNING id`);
        const auth = await new DatabaseAuthStateStore(ds, new CredentialsKeyring(oldKey), leases).open(id, (await leases.acquire(id, 'worker-a'))!);
        await auth.state.keys.set({ session: { peer: Buffer.from(`session of ${id}`) } });
        ids.push(id);
      }

      const env = { DATABASE_URL: database.url, CREDENTIALS_KEY: newKey.toString('base64'), CREDENTIALS_KEY_PREVIOUS: oldKey.toString('hex') };
      const run = spawnGateway(env, 'apps/gateway/src/rotate-credentials-key.ts');
      const { code } = await run.exited;
      const output = run.output();
      expect({ code, output }).toMatchObject({ code: 0 });
      expect(output).toContain('sessions: 3, re-wrapped: 3, already current: 0, unreadable: 0');
      expect(output).toContain(CredentialsKeyring.keyIdOf(newKey));
      for (const key of [oldKey, newKey]) for (const form of [key.toString('base64'), key.toString('hex')]) expect(output).not.toContain(form);

      const onlyNew = new DatabaseAuthStateStore(ds, new CredentialsKeyring(newKey), leases);
      for (const id of ids) {
        const lease = (await leases.acquire(id, 'worker-a'))!;
        expect(await (await onlyNew.open(id, lease)).state.keys.get('session', ['peer'])).toEqual({ peer: Buffer.from(`session of ${id}`) });
      }

      // Without the previous key nothing can be re-wrapped: the command says so and fails.
      const [{ id: stranded }] = await ds.query(`INSERT INTO sessions (label) VALUES ('stranded') RETURNING id`);
      await new DatabaseAuthStateStore(ds, new CredentialsKeyring(oldKey), leases).open(stranded, (await leases.acquire(stranded, 'worker-a'))!);
      const second = spawnGateway({ DATABASE_URL: database.url, CREDENTIALS_KEY: newKey.toString('base64') }, 'apps/gateway/src/rotate-credentials-key.ts');
      expect((await second.exited).code).toBe(1);
      expect(second.output()).toContain('sessions: 4, re-wrapped: 0, already current: 3, unreadable: 1');
      expect(second.output()).toContain(stranded);
    } finally {
      await ds.destroy();
      await database.drop();
    }
  });
});
