import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/**
 * The lib order (docs/architecture.md): a lib may import only libs of a lower layer, through
 * their `@dbaas/<lib>` entry point. Apps, tests and benchmarks import libs only through those
 * entry points too.
 */
const LIB_LAYERS = [
  ['core'],
  ['persistence'],
  ['auth', 'catalog'],
  // Above the catalog: InfraAccess reads infras through the catalog's InfraRepository.
  ['engines'],
  ['operations'],
  ['credentials'],
  ['databases'],
  // Below quarantine: a hard delete takes a final backup first.
  ['backups'],
  ['quarantine'],
  ['broker', 'sample-data'],
];
const ALL_LIBS = LIB_LAYERS.flat();
const layerOf = (lib) => LIB_LAYERS.findIndex((layer) => layer.includes(lib));

const DEEP_IMPORT = {
  regex: '^@dbaas/[^/]+/',
  message: 'Import a lib through its entry point (@dbaas/<lib>), not a file inside it.',
};
const ENTRY_POINTS_ONLY = [
  DEEP_IMPORT,
  {
    regex: '^\\.{1,2}/(.*/)?libs/',
    message: 'Import a lib through its entry point (@dbaas/<lib>), not by a relative path.',
  },
];
const LIB_ENTRY_POINTS_ONLY = [
  DEEP_IMPORT,
  {
    // From inside a lib, `../../<other lib>/src/...` reaches into another lib.
    regex: '^\\.{1,2}/(.*/)?(libs|src)(/|$)',
    message: 'Import another lib through its entry point (@dbaas/<lib>), not by a relative path.',
  },
];

function libBoundaries(lib) {
  const forbidden = ALL_LIBS.filter((other) => other !== lib && layerOf(other) >= layerOf(lib));
  return {
    files: [`libs/${lib}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: forbidden.map((other) => ({
            name: `@dbaas/${other}`,
            message: `libs/${lib} sits below or beside libs/${other} in the lib order; move the shared code down instead.`,
          })),
          patterns: LIB_ENTRY_POINTS_ONLY,
        },
      ],
    },
  };
}

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'coverage/',
      'reports/',
      'test/artifacts/',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  prettier,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-imports': ['error', { patterns: ENTRY_POINTS_ONLY }],
      // `(await store.query(sql)) as Row[]` is the house style for raw SQL results; the rule
      // would ask for `query<Row[]>(sql)`, which TypeORM types as `any` anyway.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // Async methods that implement a Promise-returning contract need no `await` inside.
      '@typescript-eslint/require-await': 'off',
    },
  },
  ...ALL_LIBS.map(libBoundaries),
  {
    // The benchmarks run under tsx (esbuild), which emits no decorator metadata: they load
    // the engine providers' own files, not an entry point that brings the TypeORM entities.
    files: ['bench/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [DEEP_IMPORT] }] },
  },
  {
    // Tests and benchmarks read JSON answers of many shapes and fake async interfaces.
    files: ['test/**/*.ts', 'bench/**/*.ts', '**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
