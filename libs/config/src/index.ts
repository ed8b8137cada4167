export * from './app-config';
export * from './load-config';
export * from './embedded-secrets';
export * from './config.module';
export * from './webhook-delivery-settings';
export * from './messaging-settings';
export * from './session-runtime-settings';
