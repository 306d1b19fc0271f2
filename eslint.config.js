import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layer = (files, patterns, message) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { patterns: [{ group: patterns, message }] }] },
});

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'data/**', 'coverage/**', 'server/.e2e-server-*/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      eqeqeq: ['error', 'always'],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  {
    // Tests read JSON answers (typed any by inject) and assert on them; that is their job.
    files: ['server/test/**', 'e2e/**'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  // Layering (STYLE.md): a wrong import fails lint.
  layer(['server/src/domain/**'], ['../*'], 'domain/ imports nothing internal.'),
  layer(
    ['server/src/contract/**'],
    [
      '../*.js',
      '**/config/*',
      '**/db/*',
      '**/http/*',
      '**/media/*',
      '**/repositories/*',
      '**/services/*',
      '**/storage/*',
      'fastify',
      '@fastify/*',
      'kysely',
      'sharp',
      'node:*',
    ],
    'contract/ (the API schemas) imports only typebox and domain/.',
  ),
  layer(
    ['server/src/http/**'],
    ['**/repositories/*', '**/db/*', '**/storage/*', '**/media/*', 'kysely', 'sharp'],
    'Routes call services; they never touch repositories, the database, storage or sharp.',
  ),
  layer(
    ['server/src/services/**'],
    ['fastify', '@fastify/*', 'kysely', 'sharp', '**/http/*'],
    'Services never import Fastify, Kysely or sharp.',
  ),
  layer(['server/src/repositories/**'], ['fastify', 'sharp', '**/services/*', '**/http/*'], 'Repositories only talk to the database.'),
  layer(
    ['server/src/storage/**', 'server/src/media/**'],
    ['fastify', 'kysely', '**/services/*', '**/http/*', '**/repositories/*'],
    'Drivers stand alone.',
  ),
);
