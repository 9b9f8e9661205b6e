// Lint: typescript-eslint's recommended rules (syntax-level, fast), formatting left to Prettier,
// and the stage boundaries: a stage is imported through its entry module only.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** The stages from the bottom up: each may import those before it (and util/, db/), none after it. */
const LAYERS = [
  'util',
  'db',
  'config',
  'state',
  'store',
  'source',
  'simulator',
  'lake',
  'extract',
  'transform',
  'carrier',
  'deliver',
  'alerts',
  'report',
  'schedule',
  'cli',
];

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
      // Off deliberately: it flags the `let x = initial; try { x = … }` shape whose initial value
      // the code after a failed try still reads; TypeScript's definite-assignment check covers the rest.
      'no-useless-assignment': 'off',
    },
  },
  // Stage boundaries. Another stage is reached through its entry module (pipeline/<stage>/index.ts),
  // so a stage's files can change shape without breaking the others; util/ and db/ are shared
  // building blocks, imported file by file. And arrows point one way: a stage imports only the
  // stages before it in LAYERS, never one after it.
  ...LAYERS.map((stage, i) => ({
    files: [`pipeline/${stage}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./(?!util/|db/)[a-z-]+/(?!index\\.ts$)',
              message: 'Import another stage through its entry module: ../<stage>/index.ts (export what you need there).',
            },
            ...(LAYERS.slice(i + 1).length > 0
              ? [
                  {
                    regex: `^\\.\\./(${LAYERS.slice(i + 1).join('|')})/`,
                    message: `${stage}/ may not import a stage that sits on top of it (order: ${LAYERS.join(' < ')}).`,
                  },
                ]
              : []),
          ],
        },
      ],
    },
  })),
);
