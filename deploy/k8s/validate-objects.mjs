// Validates Kubernetes objects against the API's OpenAPI schema with kubernetes-models, offline.
//
// Input (stdin): a JSON array of objects. Output (stdout): a JSON array, one entry per object,
// `{ "ok": true }` or `{ "error": "<why>" }`.
//
// Why a separate process: kubernetes-models ships ES modules only (its package exports have an
// "import" condition and nothing else), and Jest's CommonJS module registry cannot load them on
// Node 20 (it supports require(esm) only from Node 24.9). A plain Node process imports them
// natively, so manifests.spec.ts runs this file with spawnSync.
import { readFileSync } from 'node:fs';

// apiVersion is "v1" for the core group, "<group>/<version>" otherwise; both map one to one onto
// the package layout (kubernetes-models/v1/Service, kubernetes-models/apps/v1/Deployment).
const API_VERSION = /^([a-z0-9]([a-z0-9.-]*[a-z0-9])?\/)?v[0-9]+((alpha|beta)[0-9]+)?$/;
const KIND = /^[A-Z][A-Za-z0-9]*$/;

async function modelFor(apiVersion, kind) {
  const specifier = `kubernetes-models/${apiVersion}/${kind}`;
  let module;
  try {
    module = await import(specifier);
  } catch (error) {
    if (error?.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED' || error?.code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw error;
  }
  const model = module[kind];
  // The package also exports nested types (DeploymentSpec, Container): only top-level resources
  // carry their own apiVersion and kind, and only those may appear as documents.
  if (typeof model !== 'function' || model.apiVersion !== apiVersion || model.kind !== kind) return undefined;
  return model;
}

async function check(object) {
  if (object === null || typeof object !== 'object' || Array.isArray(object)) return { error: 'not a Kubernetes object (expected a mapping)' };
  const { apiVersion, kind } = object;
  if (typeof apiVersion !== 'string' || !API_VERSION.test(apiVersion)) return { error: `invalid apiVersion ${JSON.stringify(apiVersion)}` };
  if (typeof kind !== 'string' || !KIND.test(kind)) return { error: `invalid kind ${JSON.stringify(kind)}` };
  const Model = await modelFor(apiVersion, kind);
  if (!Model) return { error: `unknown kind: kubernetes-models has no top-level resource ${apiVersion} ${kind}` };
  try {
    new Model(object).validate();
    return { ok: true };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

const objects = JSON.parse(readFileSync(0, 'utf8'));
if (!Array.isArray(objects)) throw new Error('expected a JSON array of objects on stdin');
const results = [];
for (const object of objects) results.push(await check(object));
process.stdout.write(JSON.stringify(results));
