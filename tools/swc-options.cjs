// One swc configuration for the build and for jest, so tests run the code the build ships.
const path = require('node:path');
const { compilerOptions } = require('../tsconfig.base.json');

const root = path.resolve(__dirname, '..');

function swcOptions({ rewritePaths }) {
  return {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
      ...(rewritePaths ? { baseUrl: root, paths: compilerOptions.paths } : {}),
    },
    module: { type: 'commonjs', strictMode: true, ignoreDynamic: true },
    sourceMaps: true,
  };
}

/** `@trigrun/x` -> absolute source path, for jest's moduleNameMapper. */
function moduleNameMapper() {
  const map = {};
  for (const [alias, [target]] of Object.entries(compilerOptions.paths)) {
    map[`^${alias.replace(/[/\\^$*+?.()|[\]{}-]/g, '\\$&')}$`] = path.join(root, target);
  }
  return map;
}

module.exports = { swcOptions, moduleNameMapper, root };
