// Boots the whole platform (tools/harness.cjs: the `npm start` launcher in its own namespace,
// database and ports) once for all e2e specs; they then drive it only over HTTP.
const { startPlatform } = require('../../tools/harness.cjs');

module.exports = async () => {
  const platform = await startPlatform({ label: 'e2e', verbose: !!process.env.TRIGRUN_E2E_VERBOSE });
  process.env.TRIGRUN_E2E_BASE_URL = platform.baseUrl;
  globalThis.__TRIGRUN_PLATFORM__ = platform;
};
