import { waitFor } from '../../support/services';
import type { SimulatedPhone, WaEmulator } from '../../../libs/wa-emulator/src';
import { GatewayClient, MemoryAuth } from './gateway-client';

/** Starts a fresh Baileys socket, has the phone scan its first QR and waits for `open`. */
export async function linkByQr(emulator: WaEmulator, phone: SimulatedPhone, auth = new MemoryAuth()): Promise<GatewayClient> {
  const client = new GatewayClient(emulator.wsUrl, auth).start();
  const qr = await waitFor(() => client.events.qrs[0], { what: 'first QR', timeoutMs: 10_000 });
  await phone.scanQr(qr);
  await waitFor(() => client.events.opened > 0, { what: 'connection open after pairing', timeoutMs: 15_000 });
  return client;
}
