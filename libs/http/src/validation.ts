import { ValidationError, ValidationPipe, type Type } from '@nestjs/common';
import { ErrorCode } from '../../contracts/src';
import { ProblemException } from './problem.exception';
import { cacheValidationMetadata } from './validation-metadata-cache';

function flatten(errors: ValidationError[], parent = ''): Array<{ field: string; messages: string[] }> {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = error.constraints ? [{ field, messages: Object.values(error.constraints) }] : [];
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/**
 * Validation errors become a 400 problem document listing every failing field.
 * `expectedType`: validate against this class whatever the parameter's declared type (a route's own pipe).
 */
export function createValidationPipe(expectedType?: Type<unknown>): ValidationPipe {
  cacheValidationMetadata();
  return new ValidationPipe({
    expectedType,
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: (errors) => {
      const fields = flatten(errors);
      const detail = fields.map((f) => `${f.field}: ${f.messages.join(', ')}`).join('; ');
      return new ProblemException(400, ErrorCode.ValidationFailed, detail || 'The request is invalid', { errors: fields });
    },
  });
}
