// Lint: typescript-eslint's recommended rules (syntax-level, fast), formatting left to Prettier,
// and the stage boundaries: a stage is imported through its entry module only.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'bench/.work/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    // Stage boundaries: another stage is reached through its entry module (pipeline/<stage>/index.ts),
    // so a stage's files can change shape without breaking the others. util/ and db/ are shared
    // building blocks, imported file by file.
    files: ['pipeline/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./(?!util/|db/)[a-z-]+/(?!index\\.ts$)',
              message: 'Import another stage through its entry module: ../<stage>/index.ts (export what you need there).',
            },
          ],
        },
      ],
    },
  },
);
