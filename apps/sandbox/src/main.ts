import { WaEmulator } from '../../../libs/wa-emulator/src';
import { main } from '../../gateway/src/main';

const DEMO_PHONE = '5511900000001';

/**
 * `npm run sandbox`: the WhatsApp emulator and the gateway in one process, for
 * a first try without a phone. Every session connects to the emulator; a
 * simulated phone is ready to scan QR codes.
 */
async function sandbox(): Promise<void> {
  const port = Number(process.argv.find((a) => a.startsWith('--emulator-port='))?.split('=')[1] ?? 3100);
  const emulator = await WaEmulator.start({ port });
  emulator.createPhone({ phoneNumber: DEMO_PHONE, pushName: 'Sandbox phone' });
  process.stdout.write(
    [
      '',
      `  WhatsApp emulator: ${emulator.url} (root key ${emulator.rootPublicKeyHex.slice(0, 16)}...)`,
      `  Simulated phone ready: ${DEMO_PHONE}`,
      '',
      '  Try it:',
      '    1. POST /connections on the gateway (admin key below or ADMIN_API_KEY)',
      '    2. GET /connections/<id>/qr',
      `    3. curl -X POST ${emulator.url}/v1/phones/${DEMO_PHONE}/link -H 'content-type: application/json' -d '{"qr":"<qr>"}'`,
      '    4. GET /connections/<id> reads "connected"; send with POST /connections/<id>/send',
      `    5. see what the phone received: GET ${emulator.url}/v1/phones/<number>/messages`,
      '',
    ].join('\n'),
  );
  await main({ WA_SANDBOX_URL: emulator.url });
}

void sandbox();
