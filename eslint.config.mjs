import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      // Nest's DI takes constructor-only classes and abstract ports; these are intended.
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/no-unsafe-function-type': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-restricted-properties': ['error', { object: 'describe', property: 'only' }, { object: 'it', property: 'only' }, { object: 'test', property: 'only' }],
    },
  },
  {
    files: ['libs/**/*.ts', 'apps/**/*.ts'],
    // The emulator is a standalone tool (it knows the protocol, not the gateway) with its own CLI flags and environment.
    ignores: ['libs/config/**', 'libs/wa-emulator/**', 'apps/emulator/**', '**/*.spec.ts'],
    rules: {
      // Configuration is read once, by libs/config; nothing else touches the environment.
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read configuration through AppConfig (libs/config).' }],
    },
  },
);
