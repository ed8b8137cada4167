import { Injectable, Logger } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { SendError, SendErrorCode, SessionGateway, type OutgoingMessage } from '../../contracts/src';

/** Stands in while no session runtime is bound: every send is "not connected" (transient), so messages wait and retry instead of failing for good. */
export class UnavailableSessionGateway extends SessionGateway {
  async send(sessionId: string, _message: OutgoingMessage, _waMessageId: string): Promise<{ ackAt: Date }> {
    throw new SendError(SendErrorCode.SessionNotConnected, `no session runtime in this process can send for ${sessionId}`);
  }

  async waitUntilConnected(): Promise<boolean> {
    return false;
  }
}

/**
 * Where the worker gets its `SessionGateway`. The sessions library binds the
 * port in its own module; this finds it anywhere in the app at first use (no
 * import cycle between the two libraries), falls back to the stand-in, and
 * lets a test or a composition replace it with `use()`.
 */
@Injectable()
export class SessionGatewayRef {
  private gateway?: SessionGateway;

  constructor(private readonly moduleRef: ModuleRef) {}

  get current(): SessionGateway {
    if (!this.gateway) {
      try {
        this.gateway = this.moduleRef.get(SessionGateway, { strict: false });
      } catch {
        new Logger('Messaging').warn('no SessionGateway is bound: sends wait as "not connected" until a session runtime provides one');
        this.gateway = new UnavailableSessionGateway();
      }
    }
    return this.gateway;
  }

  use(gateway: SessionGateway): void {
    this.gateway = gateway;
  }
}
