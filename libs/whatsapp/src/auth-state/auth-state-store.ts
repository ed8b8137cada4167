import type { AuthenticationState } from '@whiskeysockets/baileys';
import type { Lease } from '../../../sessions/src/ownership/session-leases';

export interface OpenAuthState {
  /** Baileys' credentials and Signal key store for one socket. */
  state: AuthenticationState;
  /** Persists `state.creds` (call it on every `creds.update`). */
  saveCreds: () => Promise<void>;
  /** True when the session was linked before, so the socket logs in without a QR. */
  hasCredentials: boolean;
  /** Optional: releases the in-memory key cache when the socket is gone (a later open() does it too). */
  close?: () => void;
}

/**
 * Where a session's WhatsApp credentials and Signal keys live. Every write
 * commits only while the writer's lease is current (checked in the same
 * transaction), otherwise it throws LeaseLostError and changes nothing.
 */
export abstract class AuthStateStore {
  /** Creates fresh credentials when the session has none. */
  abstract open(sessionId: string, lease: Lease): Promise<OpenAuthState>;
  /** Removes the credentials and keys (logout, delete). */
  abstract wipe(sessionId: string): Promise<void>;
  abstract hasCredentials(sessionId: string): Promise<boolean>;
}
