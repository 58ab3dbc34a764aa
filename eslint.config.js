import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'data/**', 'node_modules/**', 'test-results/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        { object: 'it', property: 'only', message: 'Focused tests would skip the rest of the suite.' },
        { object: 'test', property: 'only', message: 'Focused tests would skip the rest of the suite.' },
        { object: 'describe', property: 'only', message: 'Focused tests would skip the rest of the suite.' },
      ],
    },
  },
  {
    // The pure core must stay free of I/O: no node built-ins, no clock.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['node:*', 'fs', 'http', 'net', 'child_process', '../store/*', '../http/*'] }],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'core code takes `now` as an argument' },
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'core code takes `now` as an argument' },
        { selector: "MemberExpression[object.name='process']", message: 'core code reads no environment' },
      ],
    },
  },
);
