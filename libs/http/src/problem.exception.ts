import { ErrorCode, ProblemDocument } from '../../contracts/src';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export const titleFor = (status: number) => TITLES[status] ?? 'Error';
export const typeFor = (code: string) => `https://wa-gateway.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`;

/**
 * The one exception every library throws for an expected failure. Libraries
 * subclass it with their own codes; the global filter renders it as a problem
 * document, so no controller formats errors itself.
 */
export class ProblemException extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | string,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = new.target.name;
  }

  toProblem(instance?: string): ProblemDocument {
    // Extensions never override the standard members.
    return { ...this.extensions, type: typeFor(this.code), title: titleFor(this.status), status: this.status, detail: this.detail, code: this.code, instance };
  }
}
