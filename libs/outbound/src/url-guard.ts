import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Injectable } from '@nestjs/common';
import { AddressAllowlist, FORBIDDEN_HOST_NAMES, forbiddenAddressReason } from './ip-ranges';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Name resolution, behind a class so a test can answer with the addresses it wants (DNS rebinding). */
@Injectable()
export class HostResolver {
  async resolve(hostname: string): Promise<ResolvedAddress[]> {
    const found = await lookup(hostname, { all: true, verbatim: true });
    return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
  }
}

/** A target the guard refuses; `reason` reads well after "is not allowed: ". */
export class ForbiddenTargetError extends Error {
  constructor(
    readonly target: string,
    readonly reason: string,
    subject = 'target',
  ) {
    super(`${subject} ${target} is not allowed: ${reason}`);
    this.name = 'ForbiddenTargetError';
  }
}

const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * The SSRF guard for URLs that clients give and the service fetches (webhook
 * targets, media URLs): http(s) only, no credentials, and no private,
 * loopback, link-local or metadata address unless allowed by name or address.
 * `resolveForConnect` is meant to be an HTTP agent's DNS lookup (see
 * `createPinnedAgent`), so the address that was checked is the address
 * connected to.
 */
export class OutboundUrlGuard {
  private readonly allowlist: AddressAllowlist;

  constructor(
    private readonly resolver: HostResolver,
    allowPrivateHosts: readonly string[],
    /** What the URLs are, for error messages ("webhook target", "media URL"). */
    private readonly subject: string,
  ) {
    this.allowlist = new AddressAllowlist(allowPrivateHosts);
  }

  /** Parses and checks a URL; throws `ForbiddenTargetError`. */
  async check(raw: string): Promise<URL> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw this.forbidden(raw, 'not a URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw this.forbidden(raw, `only http and https are allowed (got ${url.protocol})`);
    if (url.username || url.password) throw this.forbidden(raw, 'credentials in the URL are not allowed');
    await this.resolveForConnect(hostOf(url));
    return url;
  }

  /** Resolves once, validates every address, and returns the one to connect to. */
  async resolveForConnect(hostname: string): Promise<ResolvedAddress> {
    const name = hostname.toLowerCase().replace(/\.$/, '');
    const literal = isIP(name);
    if (!literal && FORBIDDEN_HOST_NAMES.has(name)) throw this.forbidden(hostname, 'a cloud metadata host');
    const nameAllowed = this.allowlist.allowsName(name);
    let addresses: ResolvedAddress[];
    if (literal) addresses = [{ address: name, family: literal === 6 ? 6 : 4 }];
    else {
      try {
        addresses = await this.resolver.resolve(name);
      } catch (error) {
        throw this.forbidden(hostname, `the host does not resolve (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      }
    }
    if (addresses.length === 0) throw this.forbidden(hostname, 'the host does not resolve');
    // A name that mixes public and private addresses is refused whole: any of them could be the one used.
    for (const { address } of addresses) {
      const reason = forbiddenAddressReason(address);
      if (reason && !nameAllowed && !this.allowlist.allowsAddress(address)) {
        throw this.forbidden(hostname, literal ? reason : `it resolves to ${address}, ${reason}`);
      }
    }
    return addresses[0];
  }

  private forbidden(target: string, reason: string): ForbiddenTargetError {
    return new ForbiddenTargetError(target, reason, this.subject);
  }
}
