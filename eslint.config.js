import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules', 'cdk.out', '.data', 'coverage', '**/dist', 'test-results', '.tmp'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportDeclaration[source.value='zod'] > ImportSpecifier[imported.name='z']",
          message:
            "Use `import * as z from 'zod'`: the `z` object defeats tree-shaking (450 KB instead of 85 KB a bundle).",
        },
      ],
    },
  },
  {
    // The verifier is a package of its own (browsers, apps): nothing from outside its folder, no dependency.
    // Only its Node entry and the zlib compression only that entry loads may use Node's crypto and zlib.
    files: ['packages/verifier/src/**/*.{ts,js,mjs,cjs}'],
    rules: {
      'no-restricted-imports': ['error', verifierImports({ node: false })],
    },
  },
  {
    files: ['packages/verifier/src/node.ts', 'packages/verifier/src/status-list-zlib.ts'],
    rules: {
      'no-restricted-imports': ['error', verifierImports({ node: true })],
    },
  },
);

/**
 * `no-restricted-imports` options for the verifier package: relative imports only (a bare name is a
 * dependency, which it must not have), none reaching the service's folders.
 */
function verifierImports({ node }) {
  return {
    patterns: [
      {
        regex: node ? '^(?!\\.{1,2}/|node:crypto$|node:zlib$)' : '^(?!\\.{1,2}/)',
        message: node
          ? 'The verifier imports only its own files, and on its Node entry node:crypto and node:zlib.'
          : 'The verifier imports only its own files (relative paths): no package, no Node builtin.',
      },
      {
        group: ['**/shared/**', '**/functions/**', '**/infra/**', '**/test/**', '**/node_modules/**'],
        message: 'The verifier imports nothing from outside packages/verifier.',
      },
    ],
  };
}
