export * from './sandbox-connector';
