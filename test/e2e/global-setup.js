// Boots the whole platform (tools/harness.cjs: the `npm start` launcher in its own namespace,
// database and ports) once for all e2e specs; they then drive it only over HTTP.
const { startPlatform } = require('../../tools/harness.cjs');

module.exports = async () => {
  const platform = await startPlatform({ label: 'e2e', verbose: !!process.env.TRIGRUN_E2E_VERBOSE });
  process.env.TRIGRUN_E2E_BASE_URL = platform.baseUrl;
  // For specs that look past the API at what the platform stored (secret-redaction.e2e-spec.ts).
  process.env.TRIGRUN_E2E_NAMESPACE = platform.namespace;
  process.env.TRIGRUN_E2E_DATABASE_URL = `${platform.pgBase}/${platform.database}`;
  globalThis.__TRIGRUN_PLATFORM__ = platform;
};
