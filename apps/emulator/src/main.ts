import { WaEmulator } from '../../../libs/wa-emulator/src';

/**
 * `npm run emulator -- --port <port> [--host 127.0.0.1] [--root-private-key <hex>]`
 * Starts the WhatsApp Web emulator and prints where to reach it.
 */
interface CliOptions {
  port: number;
  host: string;
  rootPrivateKey?: string;
}

function parseArgs(argv: string[]): CliOptions {
  const options: CliOptions = { port: Number(process.env.EMULATOR_PORT ?? 7010), host: process.env.EMULATOR_HOST ?? '127.0.0.1', rootPrivateKey: process.env.EMULATOR_ROOT_PRIVATE_KEY };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i];
    if (flag === '--port') options.port = Number(value());
    else if (flag === '--host') options.host = value();
    else if (flag === '--root-private-key') options.rootPrivateKey = value();
    else if (flag === '--help' || flag === '-h') {
      process.stdout.write('usage: npm run emulator -- --port <port> [--host <host>] [--root-private-key <64 hex>]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) throw new Error('--port must be 0-65535');
  if (options.rootPrivateKey && !/^[0-9a-f]{64}$/i.test(options.rootPrivateKey)) throw new Error('--root-private-key must be 64 hex characters');
  return options;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const emulator = await WaEmulator.start(options);
  process.stdout.write(
    [
      'WhatsApp Web emulator running',
      `  control URL:     ${emulator.url}   (set WA_SANDBOX_URL=${emulator.url} on the gateway)`,
      `  WebSocket:       ${emulator.wsUrl}`,
      `  root public key: ${emulator.rootPublicKeyHex}`,
      '',
    ].join('\n'),
  );
  const stop = async (signal: string) => {
    process.stdout.write(`${signal}: stopping the emulator\n`);
    await emulator.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`emulator: ${(error as Error).message}\n`);
  process.exit(1);
});
