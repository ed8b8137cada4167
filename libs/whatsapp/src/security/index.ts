export * from './strict-signature-verifier';
export { verifyXEdDSA } from './xeddsa';
