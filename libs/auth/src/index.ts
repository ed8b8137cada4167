export * from './principal';
export * from './auth.module';
export * from './api-key.service';
export * from './api-key.hash';
export * from './auth.exception';
