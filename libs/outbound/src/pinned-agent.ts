import type { LookupAddress, LookupOneOptions } from 'node:dns';
import { Agent } from 'undici';
import type { OutboundUrlGuard } from './url-guard';

type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void;

/**
 * An HTTP agent for client-given URLs. Its DNS lookup is the SSRF guard: a
 * new connection resolves the host once, validates the addresses and connects
 * to the validated one (the URL's host stays the Host header and the TLS
 * server name), so a name that re-resolves to a private address between the
 * check and the connect (DNS rebinding) is never reached.
 */
export function createPinnedAgent(guard: Pick<OutboundUrlGuard, 'resolveForConnect'>, options: { connectionsPerOrigin: number; connectTimeoutMs: number }): Agent {
  const lookup = (hostname: string, lookupOptions: LookupOneOptions & { all?: boolean }, callback: LookupCallback) => {
    guard.resolveForConnect(hostname).then(
      ({ address, family }) => (lookupOptions.all ? callback(null, [{ address, family }]) : callback(null, address, family)),
      (error: Error) => callback(error, ''),
    );
  };
  return new Agent({
    connections: options.connectionsPerOrigin,
    keepAliveTimeout: 10_000,
    connect: { lookup: lookup as never, timeout: options.connectTimeoutMs },
  });
}
