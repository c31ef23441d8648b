import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/**
 * Lint is where the architecture is enforced: Nx module boundaries by project tags, and a pure
 * core (domain and contracts import no framework, broker, database, HTTP client or file system,
 * and take time and randomness as data).
 */
/**
 * ApiError belongs to the HTTP edge (the error filter, fastify's own refusals, the shutdown gate,
 * the apps' controllers). Libraries refuse with DomainError from @trigrun/util, which the filter
 * answers with the same envelope and status (docs/api-conventions.md), so a CLI or an MCP server
 * built on them inherits no HTTP semantics.
 */
const API_ERROR_BAN = {
  name: '@trigrun/nest',
  importNames: ['ApiError'],
  message: 'libraries refuse with DomainError (@trigrun/util); ApiError is for the HTTP edge (libs/platform/nest and the apps)',
};

const PURE_IMPORT_BANS = {
  patterns: [
    { group: ['@nestjs/*', '@nats-io/*', '@mikro-orm/*', 'ioredis', 'pg', 'fastify', '@trigrun/http-client'], message: 'domain and contract libs stay pure: effects live in the shell' },
  ],
  paths: [
    { name: 'node:fs', message: 'domain and contract libs do no I/O' },
    { name: 'fs', message: 'domain and contract libs do no I/O' },
    { name: 'node:http', message: 'domain and contract libs do no I/O' },
    { name: 'node:crypto', message: 'ids and random values come in as data' },
    API_ERROR_BAN,
  ],
};

/**
 * Webhook verification is pure but hashes: HMAC, SHA-256 and timingSafeEqual are deterministic, so
 * node:crypto is allowed there; its random functions are not.
 */
const VERIFICATION_IMPORT_BANS = {
  patterns: PURE_IMPORT_BANS.patterns,
  paths: [
    ...PURE_IMPORT_BANS.paths.filter((path) => path.name !== 'node:crypto'),
    {
      name: 'node:crypto',
      importNames: ['randomBytes', 'randomFill', 'randomFillSync', 'randomInt', 'randomUUID', 'getRandomValues', 'webcrypto', 'generateKey', 'generateKeySync', 'generateKeyPair', 'generateKeyPairSync', 'generatePrime', 'generatePrimeSync'],
      message: 'ids and random values come in as data',
    },
  ],
};

const PURE_SYNTAX_BANS = [
  'error',
  { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'time comes in as data' },
  { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'time comes in as data' },
  { selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']", message: 'randomness comes in as data' },
  { selector: "CallExpression[callee.name='randomUUID']", message: 'ids come in as data' },
];

export default [
  { ignores: ['dist/**', 'node_modules/**', '.nx/**', '.trigrun/**', 'coverage/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:adapter', 'type:read-model', 'type:domain', 'type:contracts', 'type:util'] },
            { sourceTag: 'type:adapter', onlyDependOnLibsWithTags: ['type:adapter', 'type:read-model', 'type:domain', 'type:contracts', 'type:util'] },
            { sourceTag: 'type:read-model', onlyDependOnLibsWithTags: ['type:adapter', 'type:domain', 'type:contracts', 'type:util'] },
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain', 'type:contracts'] },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'] },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: [] },
            // Surfaces (the CLI, the MCP server, the dashboard) are clients of the public API:
            // they import an API client and nothing of the platform's insides.
            { sourceTag: 'type:surface', onlyDependOnLibsWithTags: ['type:api-client'] },
            { sourceTag: 'type:api-client', onlyDependOnLibsWithTags: ['type:api-client'] },
            // Scopes: who may know whom. The platform libs know no feature; the execution core
            // knows no feature built on it (triggers, notifications, monitors, jobs, schedules):
            // those arrive as their own libs and consumers reacting to its events.
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            {
              sourceTag: 'scope:executions',
              notDependOnLibsWithTags: ['scope:notifications', 'scope:triggers', 'scope:monitors', 'scope:jobs', 'scope:scheduling'],
            },
            { sourceTag: 'scope:notifications', notDependOnLibsWithTags: ['scope:triggers', 'scope:monitors', 'scope:jobs', 'scope:scheduling'] },
            { sourceTag: 'scope:secrets', onlyDependOnLibsWithTags: ['scope:shared', 'scope:secrets', 'scope:accounts'] },
            { sourceTag: 'scope:accounts', onlyDependOnLibsWithTags: ['scope:shared', 'scope:accounts'] },
          ],
        },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Before the pure-core block: for the files both match, that block's no-restricted-imports
  // (which repeats this ban) is the one that applies.
  {
    files: ['libs/**/*.ts'],
    ignores: ['libs/platform/nest/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [API_ERROR_BAN] }] },
  },
  {
    files: ['libs/executions/domain/**/*.ts', 'libs/executions/contracts/**/*.ts', 'libs/jobs/domain/**/*.ts', 'libs/scheduling/domain/**/*.ts', 'libs/executions/templating/**/*.ts', 'libs/executions/matching/**/*.ts', 'libs/executions/review-page/**/*.ts', 'libs/triggers/ingress/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': ['error', PURE_IMPORT_BANS],
      'no-restricted-syntax': PURE_SYNTAX_BANS,
    },
  },
  {
    files: ['libs/triggers/verification/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': ['error', VERIFICATION_IMPORT_BANS],
      'no-restricted-syntax': PURE_SYNTAX_BANS,
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
];
