import { Agent } from 'node:https';
import { Logger } from '@nestjs/common';
import pino from 'pino';
import { AppConfig } from '../../../config/src';
import { Metrics } from '../../../observability/src/metrics';
import { rootLoggerFor } from '../../../observability/src/root-logger';
import { connectToSandbox } from '../sandbox';
import { installStrictSignatureVerifier, uninstallStrictSignatureVerifier } from '../security';
import { redactKeyMaterialInConsole } from '../auth-state';
import { BaileysEngine } from './baileys-engine';
import { MediaFetcher } from './media-fetcher';
import { HostResolver, OutboundUrlGuard } from '../../../outbound/src/url-guard';
import { mediaRules } from '../../../contracts/src/media-rules';
import { WhatsAppEngine } from './whatsapp-engine';

/**
 * Builds the engine for this process: in sandbox mode it waits for the
 * emulator and trusts its root key; the strict signature verifier is installed
 * unless turned off, so a server whose certificate chain is not signed by the
 * trusted root is refused.
 */
/** The configured level, but never below warn. */
function atLeastWarn(level: pino.LevelWithSilent): pino.LevelWithSilent {
  return level === 'silent' || pino.levels.values[level] >= pino.levels.values.warn ? level : 'warn';
}

export async function createWhatsAppEngine(config: AppConfig, _metrics?: Metrics): Promise<WhatsAppEngine> {
  // libsignal prints session records (private keys included) straight to the console.
  redactKeyMaterialInConsole();
  const logger = new Logger('WhatsAppEngine');
  const log = { info: (obj: object, msg: string) => logger.log(`${msg} ${JSON.stringify(obj)}`), warn: (obj: object, msg: string) => logger.warn(`${msg} ${JSON.stringify(obj)}`) };
  const sandbox = config.sandboxUrl ? await connectToSandbox({ sandboxUrl: config.sandboxUrl, logger: log }) : undefined;
  // The verifier patches Baileys' shared Curve: the setting decides both ways.
  if (config.sessionRuntime.strictSignatures) installStrictSignatureVerifier({ logger: log });
  else uninstallStrictSignatureVerifier();
  return new BaileysEngine({
    // Baileys logs at warn at most: its debug output can carry key material.
    logger: rootLoggerFor(config).child({ component: 'baileys' }, { level: atLeastWarn(config.logLevel) }),
    waWebSocketUrl: sandbox?.waWebSocketUrl,
    // Only the emulator's media host is trusted for uploads in sandbox mode; WhatsApp's use the system's CAs.
    mediaUploadAgent: sandbox?.mediaCaCert ? new Agent({ ca: sandbox.mediaCaCert, keepAlive: true }) : undefined,
    mediaFetcher: new MediaFetcher(new OutboundUrlGuard(new HostResolver(), config.messaging.mediaAllowPrivateHosts, 'media URL'), {
      timeoutMs: config.messaging.mediaFetchTimeoutMs,
      rules: mediaRules(config.messaging.mediaMaxBytes),
    }),
    verifyRecipients: config.sessionRuntime.verifyRecipients,
  });
}
