/** The master key cannot open what is stored: wrong CREDENTIALS_KEY, or a rotation rolled out without CREDENTIALS_KEY_PREVIOUS. */
export class CredentialsKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsKeyError';
  }
}

/** The session's credentials were wiped (logout, delete) while a socket still held them open. */
export class AuthStateWipedError extends Error {
  constructor(readonly sessionId: string) {
    super(`The credentials of session ${sessionId} were wiped`);
    this.name = 'AuthStateWipedError';
  }
}
