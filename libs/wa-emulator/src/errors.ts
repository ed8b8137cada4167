/** Errors the caller caused (bad input, unknown phone, nothing to act on): 4xx in the control API. */
export class EmulatorInputError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 | 422 = 400,
  ) {
    super(message);
  }
}
