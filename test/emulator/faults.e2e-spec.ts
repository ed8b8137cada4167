import { WaEmulator, type Fault } from '../../libs/wa-emulator/src';
import { waitFor } from '../support/services';
import { GatewayClient, muteLibsignalConsole, trustRoot } from './support/gateway-client';
import { linkByQr } from './support/linking';

describe('emulator: faults on a linked device connection and the status Baileys reports', () => {
  let emulator: WaEmulator;
  let previousRoot: Buffer;
  const clients: GatewayClient[] = [];
  let seq = 0;

  beforeAll(async () => {
    emulator = await WaEmulator.start({ port: 0 });
    previousRoot = trustRoot(emulator.rootPublicKey);
    muteLibsignalConsole();
  });

  afterAll(async () => {
    for (const c of clients) c.stop();
    await emulator.close();
    trustRoot(previousRoot);
  });

  async function linkedPhone() {
    const phone = emulator.createPhone({ phoneNumber: `55119300${String(++seq).padStart(5, '0')}` });
    const client = await linkByQr(emulator, phone);
    clients.push(client);
    return { phone, client };
  }

  const cases: Array<{ name: string; fault: Fault; expected: number }> = [
    { name: 'drop (abrupt close)', fault: { type: 'drop' }, expected: 428 },
    { name: 'conflict (replaced)', fault: { type: 'conflict' }, expected: 440 },
    { name: 'stream error 503', fault: { type: 'stream-error', code: 503 }, expected: 503 },
    { name: 'stream error with an unknown child', fault: { type: 'stream-error', code: 500 }, expected: 500 },
    { name: 'failure 403', fault: { type: 'failure', reason: 403 }, expected: 403 },
  ];

  it.each(cases)('$name closes with $expected', async ({ fault, expected }) => {
    const { phone, client } = await linkedPhone();
    expect(phone.fault(fault)).toBe(1);
    await waitFor(() => client.lastClose?.statusCode === expected, { what: `close ${expected}` });
    expect(client.events.closes.map((c) => c.statusCode)).toEqual([515, expected]);
  });

  it('restart-required closes with 515 and the session logs in again', async () => {
    const { phone, client } = await linkedPhone();
    expect(phone.fault({ type: 'restart-required' })).toBe(1);
    await waitFor(() => client.events.opened === 2, { what: 'second open after 515' });
    expect(client.events.closes.map((c) => c.statusCode)).toEqual([515, 515]);
    expect(client.events.qrs).toHaveLength(1);
  });

  it('logout removes the device: 401 now and on the next login', async () => {
    const { phone, client } = await linkedPhone();
    expect(phone.fault({ type: 'logout' })).toBe(1);
    await waitFor(() => client.lastClose?.statusCode === 401, { what: 'close 401' });
    expect(phone.snapshot().linkedDevices).toHaveLength(0);
    const again = new GatewayClient(emulator.wsUrl, client.auth).start();
    clients.push(again);
    await waitFor(() => again.lastClose?.statusCode === 401, { what: 'removed device refused' });
  });

  it('stall stops answering pings and Baileys gives up with 408', async () => {
    const phone = emulator.createPhone({ phoneNumber: `55119300${String(++seq).padStart(5, '0')}` });
    const client = new GatewayClient(emulator.wsUrl, undefined, { keepAliveIntervalMs: 250 }).start();
    clients.push(client);
    const qr = await waitFor(() => client.events.qrs[0], { what: 'QR' });
    await phone.scanQr(qr);
    await waitFor(() => client.events.opened === 1, { what: 'open' });
    expect(phone.fault({ type: 'stall' })).toBe(1);
    await waitFor(() => client.lastClose?.statusCode === 408, { what: 'close 408 after keep-alive window', timeoutMs: 15_000 });
  }, 30_000);

  it('refuses connection faults when no linked device is connected', () => {
    const phone = emulator.createPhone({ phoneNumber: `55119300${String(++seq).padStart(5, '0')}` });
    expect(() => phone.fault({ type: 'drop' })).toThrow(/no connected linked device/);
  });
});
