/**
 * Offline checks of the Kubernetes manifests in this directory: no cluster, no kubectl, no
 * kustomize binary. Every document must be a Kubernetes object that conforms to the API schema
 * (kubernetes-models; an unknown apiVersion/kind fails), and the set of objects must keep the
 * platform's invariants: probes, resources, least-privilege secrets, ingress split, durable NATS.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the launcher's NATS config, checked here with the same nats-server config test as the cluster's
import { localNatsConfig } from '../../tools/local-nats.cjs';
import { parse, parseAllDocuments } from 'yaml';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet' with { 'resolution-mode': 'import' };
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment' with { 'resolution-mode': 'import' };
import type { IJob } from 'kubernetes-models/batch/v1/Job' with { 'resolution-mode': 'import' };
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress' with { 'resolution-mode': 'import' };
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget' with { 'resolution-mode': 'import' };
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap' with { 'resolution-mode': 'import' };
import type { IContainer } from 'kubernetes-models/v1/Container' with { 'resolution-mode': 'import' };
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec' with { 'resolution-mode': 'import' };
import type { IProbe } from 'kubernetes-models/v1/Probe' with { 'resolution-mode': 'import' };
import type { ISecret } from 'kubernetes-models/v1/Secret' with { 'resolution-mode': 'import' };
import type { IService } from 'kubernetes-models/v1/Service' with { 'resolution-mode': 'import' };

const DIR = __dirname;
const NAMESPACE = 'trigrun';
const IMAGE = 'ghcr.io/trigrun/trigrun:0.1.0';
const CONFIG_MAP = 'trigrun-config';
const SECRET = 'trigrun-secrets';

const SERVICES = ['api-gateway', 'scheduler', 'trigger-ingest', 'step-runner', 'notifier'] as const;
type ServiceName = (typeof SERVICES)[number];

/** Least privilege: each service gets exactly the secret keys it uses, nothing more. */
const SECRET_KEYS: Record<ServiceName, readonly string[]> = {
  'api-gateway': ['TRIGRUN_DATABASE_URL', 'TRIGRUN_REDIS_URL', 'TRIGRUN_JWT_SECRET', 'TRIGRUN_MASTER_KEY'],
  scheduler: ['TRIGRUN_DATABASE_URL', 'TRIGRUN_REDIS_URL'],
  'trigger-ingest': ['TRIGRUN_DATABASE_URL', 'TRIGRUN_REDIS_URL'],
  'step-runner': ['TRIGRUN_DATABASE_URL', 'TRIGRUN_REDIS_URL', 'TRIGRUN_MASTER_KEY'],
  notifier: ['TRIGRUN_DATABASE_URL', 'TRIGRUN_REDIS_URL', 'TRIGRUN_MASTER_KEY'],
};

/** step-runner may be mid HTTP call when told to stop, so it gets longer to drain. */
const GRACE_SECONDS: Record<ServiceName, number> = {
  'api-gateway': 30,
  scheduler: 30,
  'trigger-ingest': 30,
  'step-runner': 40,
  notifier: 30,
};

const PUBLIC_PREFIXES = ['/v1/triggers', '/v1/resume', '/v1/approvals', '/v1/ping'];

const REQUIRED_CONFIG = [
  'HOST',
  'PORT',
  'TRIGRUN_NATS_URL',
  'TRIGRUN_NAMESPACE',
  'TRIGRUN_PUBLIC_URL',
  'TRIGRUN_LOG_LEVEL',
  'TRIGRUN_OUTBOUND_ALLOWLIST',
  'TRIGRUN_SIGNUP_ENABLED',
  'TRIGRUN_JETSTREAM_REPLICAS',
];
const REQUIRED_SECRETS = ['TRIGRUN_DATABASE_URL', 'TRIGRUN_REDIS_URL', 'TRIGRUN_JWT_SECRET', 'TRIGRUN_MASTER_KEY'];

// ---------------------------------------------------------------------------------------------
// Loading

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

interface Manifest {
  /** `file#index`, for test names and messages. */
  ref: string;
  file: string;
  object: KubeObject;
}

function manifestFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.ya?ml$/.test(entry.name) && entry.name !== 'kustomization.yaml') files.push(path.relative(DIR, full));
    }
  };
  walk(DIR);
  return files.sort();
}

function loadManifests(files: string[]): { manifests: Manifest[]; problems: string[] } {
  const manifests: Manifest[] = [];
  const problems: string[] = [];
  for (const file of files) {
    // YAML 1.1, as kubectl reads it: an unquoted `yes` or `on` is a boolean there, not a string.
    const documents = parseAllDocuments(readFileSync(path.join(DIR, file), 'utf8'), { version: '1.1' });
    documents.forEach((document, index) => {
      const ref = `${file}#${index}`;
      if (document.errors.length > 0) {
        problems.push(`${ref}: ${document.errors.map((e) => e.message).join('; ')}`);
        return;
      }
      const value: unknown = document.toJS();
      if (value === null || value === undefined) return; // an empty document, e.g. after a trailing `---`
      if (typeof value !== 'object' || Array.isArray(value)) {
        problems.push(`${ref}: not a mapping`);
        return;
      }
      const object = value as KubeObject;
      if (typeof object.metadata?.name !== 'string' || object.metadata.name === '') {
        problems.push(`${ref}: ${object.kind ?? 'object'} without metadata.name`);
      }
      manifests.push({ ref, file, object });
    });
  }
  return { manifests, problems };
}

/** Runs validate-objects.mjs in a plain Node process (kubernetes-models is ESM-only; see there). */
function validateWithKubernetesModels(objects: unknown[]): { ok?: true; error?: string }[] {
  const run = spawnSync(process.execPath, [path.join(DIR, 'validate-objects.mjs')], {
    cwd: DIR,
    input: JSON.stringify(objects),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`validate-objects.mjs exited with ${run.status}:\n${run.stderr}`);
  const results = JSON.parse(run.stdout) as { ok?: true; error?: string }[];
  if (results.length !== objects.length) throw new Error(`validate-objects.mjs answered ${results.length} results for ${objects.length} objects`);
  return results;
}

const files = manifestFiles();
const { manifests, problems } = loadManifests(files);
const schemaResults = validateWithKubernetesModels(manifests.map((m) => m.object));
const objects = manifests.map((m) => m.object);

function all<T>(kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as unknown as T[];
}

function one<T>(kind: string, name: string): T {
  const found = objects.filter((o) => o.kind === kind && o.metadata?.name === name);
  if (found.length !== 1) throw new Error(`expected exactly one ${kind} named "${name}", found ${found.length}`);
  return found[0] as unknown as T;
}

// ---------------------------------------------------------------------------------------------
// Small helpers over the typed objects

interface Workload {
  ref: string;
  template: IPodTemplateSpec;
}

function workloads(): Workload[] {
  return [
    ...all<IDeployment>('Deployment').map((d) => ({ ref: `Deployment/${d.metadata?.name}`, template: d.spec!.template })),
    ...all<IStatefulSet>('StatefulSet').map((s) => ({ ref: `StatefulSet/${s.metadata?.name}`, template: s.spec!.template })),
    ...all<IJob>('Job').map((j) => ({ ref: `Job/${j.metadata?.name}`, template: j.spec!.template })),
  ];
}

function containersOf(template: IPodTemplateSpec): IContainer[] {
  return [...(template.spec?.initContainers ?? []), ...(template.spec?.containers ?? [])];
}

function onlyContainer(template: IPodTemplateSpec): IContainer {
  const containers = template.spec?.containers ?? [];
  if (containers.length !== 1) throw new Error(`expected one container, found ${containers.length}`);
  return containers[0];
}

function selects(selector: { matchLabels?: Record<string, string> } | undefined, labels: Record<string, string> | undefined): boolean {
  const wanted = Object.entries(selector?.matchLabels ?? {});
  return wanted.length > 0 && wanted.every(([k, v]) => labels?.[k] === v);
}

/** The container port number a named or numeric port refers to. */
function containerPort(container: IContainer, port: string | number | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

function probeGet(probe: IProbe | undefined, container: IContainer): { path?: string; port?: number } {
  return { path: probe?.httpGet?.path, port: containerPort(container, probe?.httpGet?.port) };
}

/** Kubernetes quantity -> number (cores for cpu, bytes for memory). */
function quantity(value: string | number | undefined): number {
  if (value === undefined) return NaN;
  if (typeof value === 'number') return value;
  const match = /^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(value);
  if (!match) return NaN;
  const factor: Record<string, number> = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
  return Number(match[1]) * (match[2] ? factor[match[2]] : 1);
}

/** The secret keys a container can read, whichever way they are wired in. */
function secretKeysOf(container: IContainer, secret: ISecret): string[] {
  const keys = new Set<string>();
  for (const source of container.envFrom ?? []) {
    if (source.secretRef?.name === secret.metadata?.name) for (const key of Object.keys(secret.stringData ?? {})) keys.add(key);
  }
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    if (ref) keys.add(ref.key);
  }
  return [...keys].sort();
}

/** The body of the `name { ... }` block of a NATS config. */
function natsBlock(conf: string, name: string): string | undefined {
  const start = new RegExp(`^\\s*${name}\\s*[:=]?\\s*\\{`, 'm').exec(conf);
  if (!start) return undefined;
  let depth = 0;
  for (let i = start.index + start[0].length - 1; i < conf.length; i++) {
    if (conf[i] === '{') depth++;
    if (conf[i] === '}' && --depth === 0) return conf.slice(start.index + start[0].length, i);
  }
  return undefined;
}

/** The last value given to `key` (a regex alternative) in a NATS config block. */
function natsValue(block: string, key: string): string | undefined {
  const matches = [...block.matchAll(new RegExp(`^\\s*${key}\\s*[:=]?\\s*"?([^"\\s]+)"?\\s*$`, 'gm'))];
  return matches.at(-1)?.[1];
}

/** The nats-server on this machine, as `{ major, minor, patch }`, or undefined when there is none. */
function localNatsServer(): { version: string; major: number; minor: number } | undefined {
  const run = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  if (run.error || run.status !== 0) return undefined;
  const match = /v?(\d+)\.(\d+)\.(\d+)/.exec(run.stdout);
  if (!match) throw new Error(`cannot read the version of the local nats-server from ${JSON.stringify(run.stdout)}`);
  return { version: match[0].replace(/^v/, ''), major: Number(match[1]), minor: Number(match[2]) };
}

/** `nats-server -c <file> -t`: the server's own config test (parses, checks every setting, starts nothing). */
function natsConfigTest(conf: string, env: Record<string, string> = {}): { ok: boolean; output: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'trigrun-nats-conf-'));
  try {
    const file = path.join(dir, 'nats.conf');
    writeFileSync(file, conf);
    const run = spawnSync('nats-server', ['-c', file, '-t'], { encoding: 'utf8', env: { ...process.env, ...env } });
    return { ok: run.status === 0, output: `${run.stdout}${run.stderr}`.trim() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Kubernetes `Prefix` matching: element-wise on `/`-separated path segments. */
function prefixMatches(prefix: string, requestPath: string): boolean {
  const want = prefix.split('/').filter(Boolean);
  const have = requestPath.split('/').filter(Boolean);
  return want.every((segment, i) => have[i] === segment);
}

// ---------------------------------------------------------------------------------------------

describe('deploy/k8s manifests', () => {
  describe('files', () => {
    it('finds the manifests', () => {
      expect(manifests.length).toBeGreaterThan(0);
    });

    it('every YAML document parses and names its object', () => {
      expect(problems).toEqual([]);
    });

    it('kustomization.yaml lists every manifest file and nothing else', () => {
      const kustomization = parse(readFileSync(path.join(DIR, 'kustomization.yaml'), 'utf8')) as { kind?: string; resources?: string[] };
      expect(kustomization.kind).toBe('Kustomization');
      expect([...(kustomization.resources ?? [])].sort()).toEqual(files);
    });

    it('object names are unique per kind', () => {
      const keys = objects.map((o) => `${o.kind}/${o.metadata?.name}`);
      expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
    });

    it(`every namespaced object names the ${NAMESPACE} namespace, so \`kubectl apply -f\` works too`, () => {
      expect(one<KubeObject>('Namespace', NAMESPACE)).toBeDefined();
      const misplaced = objects.filter((o) => o.kind !== 'Namespace' && o.metadata?.namespace !== NAMESPACE).map((o) => `${o.kind}/${o.metadata?.name}`);
      expect(misplaced).toEqual([]);
    });
  });

  describe('Kubernetes schema (kubernetes-models)', () => {
    it.each(manifests.map((m, i) => ({ ref: m.ref, kind: `${m.object.apiVersion} ${m.object.kind}`, result: schemaResults[i] })))(
      '$ref is a valid $kind',
      ({ result }) => {
        expect(result.error).toBeUndefined();
        expect(result.ok).toBe(true);
      },
    );
  });

  describe.each(SERVICES.map((name) => [name]))('%s', (name: ServiceName) => {
    const deployment = () => one<IDeployment>('Deployment', name);
    const container = () => onlyContainer(deployment().spec!.template);
    const podLabels = () => deployment().spec!.template.metadata?.labels;

    it('runs at least 2 replicas of the shared image with its own entry point', () => {
      expect(deployment().spec?.replicas).toBeGreaterThanOrEqual(2);
      expect(container().image).toBe(IMAGE);
      expect(container().command).toEqual(['node', `dist/apps/${name}/src/main.js`]);
    });

    it('has recommended labels and a selector that matches its pods', () => {
      expect(deployment().metadata?.labels?.['app.kubernetes.io/name']).toBe(name);
      expect(podLabels()?.['app.kubernetes.io/name']).toBe(name);
      expect(selects(deployment().spec?.selector, podLabels())).toBe(true);
    });

    it('listens on PORT and probes GET /healthz (liveness) and GET /readyz (readiness) there', () => {
      const port = Number(one<IConfigMap>('ConfigMap', CONFIG_MAP).data?.PORT);
      expect(containerPort(container(), 'http')).toBe(port);
      expect(probeGet(container().livenessProbe, container())).toEqual({ path: '/healthz', port });
      expect(probeGet(container().readinessProbe, container())).toEqual({ path: '/readyz', port });
    });

    // In Kubernetes the kubelet is the supervisor `npm start` is on one machine (docs/operations.md):
    // it restarts a container that exits or fails liveness, with its own capped backoff.
    it('is restarted by the kubelet: restartPolicy Always, a startup probe on /healthz before liveness starts', () => {
      const port = Number(one<IConfigMap>('ConfigMap', CONFIG_MAP).data?.PORT);
      expect(deployment().spec!.template.spec!.restartPolicy ?? 'Always').toBe('Always');
      const startup = container().startupProbe;
      expect(probeGet(startup, container())).toEqual({ path: '/healthz', port });
      // Boot (config, connections, stream checks) gets at least 30 s before liveness may kill it.
      expect((startup?.periodSeconds ?? 10) * (startup?.failureThreshold ?? 3)).toBeGreaterThanOrEqual(30);
      // Liveness is process health only: a dependency outage (/readyz false) must not restart every pod.
      expect(container().livenessProbe?.httpGet?.path).not.toBe('/readyz');
      expect(container().livenessProbe?.failureThreshold ?? 3).toBeGreaterThanOrEqual(2);
    });

    it('requests and limits cpu and memory, requests within limits', () => {
      const { requests, limits } = container().resources ?? {};
      for (const resource of ['cpu', 'memory']) {
        expect(quantity(requests?.[resource])).toBeGreaterThan(0);
        expect(quantity(limits?.[resource])).toBeGreaterThanOrEqual(quantity(requests?.[resource]));
      }
    });

    it(`reads ${CONFIG_MAP} and exactly the secret keys it needs`, () => {
      expect(container().envFrom?.some((s) => s.configMapRef?.name === CONFIG_MAP)).toBe(true);
      expect(secretKeysOf(container(), one<ISecret>('Secret', SECRET))).toEqual([...SECRET_KEYS[name]].sort());
    });

    it('finishes draining before the kubelet kills it', () => {
      const spec = deployment().spec!.template.spec!;
      expect(spec.terminationGracePeriodSeconds).toBe(GRACE_SECONDS[name]);
      const preStop = container().lifecycle?.preStop?.exec?.command ?? [];
      const preStopSeconds = preStop[0] === 'sleep' ? Number(preStop[1]) : 0;
      const override = container().env?.find((e) => e.name === 'TRIGRUN_SHUTDOWN_GRACE_MS')?.value;
      const drainMs = Number(override ?? one<IConfigMap>('ConfigMap', CONFIG_MAP).data?.TRIGRUN_SHUTDOWN_GRACE_MS ?? 25_000);
      expect(preStopSeconds * 1000 + drainMs).toBeLessThan(GRACE_SECONDS[name] * 1000);
    });

    it('has a ClusterIP Service that selects its pods and targets its port', () => {
      const service = one<IService>('Service', name);
      expect(service.spec?.type ?? 'ClusterIP').toBe('ClusterIP');
      expect(selects({ matchLabels: service.spec?.selector }, podLabels())).toBe(true);
      expect(service.spec?.ports?.length).toBeGreaterThan(0);
      for (const port of service.spec?.ports ?? []) expect(containerPort(container(), port.targetPort)).toBeDefined();
    });

    it('has a PodDisruptionBudget over its pods that still allows a drain', () => {
      const budget = all<IPodDisruptionBudget>('PodDisruptionBudget').filter((b) => selects(b.spec?.selector, podLabels()));
      expect(budget).toHaveLength(1);
      const { maxUnavailable, minAvailable } = budget[0].spec ?? {};
      if (maxUnavailable !== undefined) expect(Number(maxUnavailable)).toBeGreaterThanOrEqual(1);
      else expect(Number(minAvailable)).toBeLessThan(deployment().spec!.replicas!);
    });
  });

  describe('every pod (Deployments, StatefulSet, Job)', () => {
    const cases = () => workloads().flatMap((w) => containersOf(w.template).map((c) => ({ ...w, container: c })));

    it('there are pods to check', () => {
      expect(cases().length).toBeGreaterThanOrEqual(SERVICES.length + 2);
    });

    it('runs as non-root, read-only, without privilege escalation or capabilities', () => {
      const failures = cases().flatMap(({ ref, template, container }) => {
        const pod = template.spec?.securityContext;
        const own = container.securityContext;
        const problems: string[] = [];
        if ((own?.runAsNonRoot ?? pod?.runAsNonRoot) !== true) problems.push('runAsNonRoot');
        if (own?.readOnlyRootFilesystem !== true) problems.push('readOnlyRootFilesystem');
        if (own?.allowPrivilegeEscalation !== false) problems.push('allowPrivilegeEscalation');
        if (!own?.capabilities?.drop?.includes('ALL') || (own.capabilities.add ?? []).length > 0) problems.push('capabilities');
        return problems.map((p) => `${ref} ${container.name}: ${p}`);
      });
      expect(failures).toEqual([]);
    });

    it('requests and limits cpu and memory', () => {
      const failures = cases().flatMap(({ ref, container }) =>
        ['requests', 'limits'].flatMap((bound) =>
          ['cpu', 'memory']
            .filter((r) => !(quantity(container.resources?.[bound as 'requests' | 'limits']?.[r]) > 0))
            .map((r) => `${ref} ${container.name}: ${bound}.${r}`),
        ),
      );
      expect(failures).toEqual([]);
    });

    it('refers only to ConfigMaps, Secrets and keys that exist', () => {
      const configMaps = new Map(all<IConfigMap>('ConfigMap').map((c) => [c.metadata?.name, c]));
      const secrets = new Map(all<ISecret>('Secret').map((s) => [s.metadata?.name, s]));
      const failures = cases().flatMap(({ ref, template, container }) => {
        const missing: string[] = [];
        for (const source of container.envFrom ?? []) {
          if (source.configMapRef && !configMaps.has(source.configMapRef.name)) missing.push(`ConfigMap ${source.configMapRef.name}`);
          if (source.secretRef && !secrets.has(source.secretRef.name)) missing.push(`Secret ${source.secretRef.name}`);
        }
        for (const variable of container.env ?? []) {
          const s = variable.valueFrom?.secretKeyRef;
          if (s && !(s.key in (secrets.get(s.name)?.stringData ?? {}))) missing.push(`Secret key ${s.name}/${s.key}`);
          const c = variable.valueFrom?.configMapKeyRef;
          if (c && !(c.key in (configMaps.get(c.name)?.data ?? {}))) missing.push(`ConfigMap key ${c.name}/${c.key}`);
        }
        for (const volume of template.spec?.volumes ?? []) {
          if (volume.configMap && !configMaps.has(volume.configMap.name)) missing.push(`ConfigMap volume ${volume.configMap.name}`);
        }
        return missing.map((m) => `${ref} ${container.name}: ${m}`);
      });
      expect(failures).toEqual([]);
    });
  });

  describe('configuration and secrets', () => {
    const config = () => one<IConfigMap>('ConfigMap', CONFIG_MAP).data ?? {};
    const secret = () => one<ISecret>('Secret', SECRET);

    it(`${CONFIG_MAP} carries every non-secret setting for the cluster`, () => {
      expect(Object.keys(config())).toEqual(expect.arrayContaining(REQUIRED_CONFIG));
      expect(config().HOST).toBe('0.0.0.0');
      expect(config().PORT).toBe('3000');
      expect(config().TRIGRUN_NAMESPACE).toBe('trigrun');
      expect(config().TRIGRUN_PUBLIC_URL).toMatch(/^https:\/\//);
      // Any entry would let jobs reach cluster-internal addresses (NATS, the database, metadata).
      expect(config().TRIGRUN_OUTBOUND_ALLOWLIST).toBe('');
    });

    it('TRIGRUN_TRIGGER_INGEST_URL is set nowhere (local mode only)', () => {
      expect(config()).not.toHaveProperty('TRIGRUN_TRIGGER_INGEST_URL');
      const setting = workloads().flatMap((w) => containersOf(w.template)).filter((c) => c.env?.some((e) => e.name === 'TRIGRUN_TRIGGER_INGEST_URL'));
      expect(setting.map((c) => c.name)).toEqual([]);
    });

    it(`${SECRET} holds every secret as stringData placeholders that cannot boot an install`, () => {
      expect(secret().data).toBeUndefined();
      const values = secret().stringData ?? {};
      expect(Object.keys(values).sort()).toEqual([...REQUIRED_SECRETS].sort());
      for (const value of Object.values(values)) expect(value).toContain('REPLACE_ME');
      // Shorter than the 32 characters the config schema demands, so a forgotten placeholder
      // stops the api-gateway at boot rather than signing tokens with a published key.
      expect(values.TRIGRUN_JWT_SECRET.length).toBeLessThan(32);
    });

    it('secret values never appear as plain env values or in a ConfigMap', () => {
      const secretKeys = new Set(Object.keys(secret().stringData ?? {}));
      const secretValues = new Set(Object.values(secret().stringData ?? {}));
      const leaks = workloads().flatMap(({ ref, template }) =>
        containersOf(template).flatMap((c) =>
          (c.env ?? [])
            .filter((e) => e.value !== undefined && (secretKeys.has(e.name) || secretValues.has(e.value)))
            .map((e) => `${ref} ${c.name}: env ${e.name} has a plain value`),
        ),
      );
      for (const configMap of all<IConfigMap>('ConfigMap')) {
        for (const [key, value] of Object.entries(configMap.data ?? {})) {
          if (secretKeys.has(key) || secretValues.has(value)) leaks.push(`ConfigMap ${configMap.metadata?.name}: ${key}`);
        }
      }
      expect(leaks).toEqual([]);
    });
  });

  describe('Ingress', () => {
    const ingress = () => {
      const found = all<IIngress>('Ingress');
      expect(found).toHaveLength(1);
      return found[0];
    };
    const paths = () => (ingress().spec?.rules ?? []).flatMap((r) => r.http?.paths ?? []);

    it('uses the nginx class and serves the host of TRIGRUN_PUBLIC_URL over TLS', () => {
      const host = new URL(one<IConfigMap>('ConfigMap', CONFIG_MAP).data!.TRIGRUN_PUBLIC_URL).hostname;
      expect(ingress().spec?.ingressClassName).toBe('nginx');
      expect(ingress().spec?.rules?.map((r) => r.host)).toEqual([host]);
      expect(ingress().spec?.tls?.some((t) => t.hosts?.includes(host))).toBe(true);
    });

    it.each(PUBLIC_PREFIXES)('sends %s (Prefix) to trigger-ingest', (prefix) => {
      const rule = paths().filter((p) => p.path === prefix);
      expect(rule).toHaveLength(1);
      expect(rule[0].pathType).toBe('Prefix');
      expect(rule[0].backend.service?.name).toBe('trigger-ingest');
    });

    it('sends / (Prefix) to api-gateway, and has no other rules', () => {
      const rest = paths().filter((p) => !PUBLIC_PREFIXES.includes(p.path ?? ''));
      expect(rest.map((p) => [p.path, p.pathType, p.backend.service?.name])).toEqual([['/', 'Prefix', 'api-gateway']]);
    });

    it('every backend is an existing Service port', () => {
      for (const p of paths()) {
        const service = one<IService>('Service', p.backend.service!.name);
        const port = p.backend.service!.port;
        expect(service.spec?.ports?.some((sp) => (port?.name !== undefined ? sp.name === port.name : sp.port === port?.number))).toBe(true);
      }
    });

    // Longest matching prefix wins (ingress-nginx and the Ingress spec agree on this).
    it.each([
      ['/v1/triggers/tok_abc', 'trigger-ingest'],
      ['/v1/resume/tok_abc', 'trigger-ingest'],
      ['/v1/approvals/tok_abc/approve', 'trigger-ingest'],
      ['/v1/ping/mping_abc', 'trigger-ingest'],
      ['/v1/jobs/job_1/executions', 'api-gateway'],
      ['/v1/monitors/mon_1/pings', 'api-gateway'],
      ['/v1/pings', 'api-gateway'],
      ['/openapi.json', 'api-gateway'],
      ['/mcp', 'api-gateway'],
    ])('routes %s to %s', (requestPath, backend) => {
      const matching = paths()
        .filter((p) => p.pathType === 'Prefix' && prefixMatches(p.path ?? '/', requestPath))
        .sort((a, b) => (b.path ?? '').length - (a.path ?? '').length);
      expect(matching[0]?.backend.service?.name).toBe(backend);
    });
  });

  describe('NATS JetStream', () => {
    const statefulSet = () => one<IStatefulSet>('StatefulSet', 'nats');
    const container = () => onlyContainer(statefulSet().spec!.template);
    const rawConf = () => one<IConfigMap>('ConfigMap', 'nats-config').data?.['nats.conf'] ?? '';
    const conf = () => rawConf().replace(/(^|\s)(#|\/\/).*$/gm, '$1');
    const replicas = () => statefulSet().spec!.replicas!;
    /** The exact server version the image tag names: `nats:2.9.10-alpine3.17` -> 2.9.10. */
    const pinned = () => {
      const match = /^nats:(\d+)\.(\d+)\.(\d+)(-[a-z0-9.]+)?$/.exec(container().image ?? '');
      if (!match) throw new Error(`the NATS image must name an exact server version (nats:<major>.<minor>.<patch>[-variant]), not ${container().image}`);
      return { version: `${match[1]}.${match[2]}.${match[3]}`, major: Number(match[1]), minor: Number(match[2]) };
    };
    const local = localNatsServer();
    const withLocalServer = local ? it : it.skip;
    const skipped = local ? '' : ' (skipped: no nats-server on this machine; apt-get install nats-server)';

    it('runs 3 replicas of an exact nats-server version, started in parallel', () => {
      expect(replicas()).toBe(3);
      expect(pinned().version).toBe('2.9.10');
      expect(statefulSet().metadata?.labels?.['app.kubernetes.io/version']).toBe(pinned().version);
      expect(statefulSet().spec?.podManagementPolicy).toBe('Parallel');
    });

    withLocalServer(`the local nats-server has the major.minor the manifest pins, so the config test below speaks for the deployed server${skipped}`, () => {
      expect(`${local!.major}.${local!.minor}`).toBe(`${pinned().major}.${pinned().minor}`);
    });

    withLocalServer(`nats.conf passes \`nats-server -c nats.conf -t\` with POD_NAME set as the downward API sets it${skipped}`, () => {
      expect(`${local!.major}.${local!.minor}`).toBe(`${pinned().major}.${pinned().minor}`);
      const result = natsConfigTest(rawConf(), { POD_NAME: 'nats-0' });
      expect(result).toEqual({ ok: true, output: expect.stringContaining('is valid') });
    });

    withLocalServer(`the config test refuses a setting this version does not know (so it can fail)${skipped}`, () => {
      const withSync = rawConf().replace(/^(\s*)jetstream\s*\{/m, '$1jetstream {\n$1  sync_interval: always');
      expect(withSync).not.toBe(rawConf());
      const result = natsConfigTest(withSync, { POD_NAME: 'nats-0' });
      if (local!.major === 2 && local!.minor < 10) expect(result).toEqual({ ok: false, output: expect.stringContaining('unknown field "sync_interval"') });
      expect(natsConfigTest('jetstream { no_such_setting: 1 }').ok).toBe(false);
    });

    withLocalServer(`the nats.conf \`npm start\` writes for a local server passes the same config test${skipped}`, () => {
      const result = natsConfigTest(localNatsConfig({ port: 4222, storeDir: path.join(tmpdir(), 'trigrun nats "store"') }));
      expect(result).toEqual({ ok: true, output: expect.stringContaining('is valid') });
    });

    it('nats.conf enables JetStream file storage, with no fsync setting 2.9 would refuse', () => {
      const jetstream = natsBlock(conf(), 'jetstream');
      expect(jetstream).toBeDefined();
      // 2.9's fsync policy is built in (every 2 minutes); docs/operations.md says what that means.
      if (pinned().major === 2 && pinned().minor < 10) expect(natsValue(jetstream!, '(?:sync|sync_interval)')).toBeUndefined();
      expect(natsValue(jetstream!, '(?:store|store_dir|storedir)')).toBeDefined();
      expect(quantity(natsValue(jetstream!, 'max_file_store')?.replace(/B$/i, ''))).toBeGreaterThan(0);
    });

    it('the JetStream store_dir is on a PersistentVolumeClaim from volumeClaimTemplates', () => {
      const storeDir = natsValue(natsBlock(conf(), 'jetstream')!, '(?:store|store_dir|storedir)');
      const claims = new Set((statefulSet().spec?.volumeClaimTemplates ?? []).map((t) => t.metadata?.name));
      const mount = (container().volumeMounts ?? []).find((m) => claims.has(m.name) && (storeDir === m.mountPath || storeDir?.startsWith(`${m.mountPath}/`)));
      expect(mount).toBeDefined();
      const claim = statefulSet().spec!.volumeClaimTemplates!.find((t) => t.metadata?.name === mount!.name);
      expect(quantity(claim?.spec?.resources?.requests?.storage)).toBeGreaterThan(0);
    });

    it('clusters the replicas through the headless Service', () => {
      const headless = one<IService>('Service', statefulSet().spec!.serviceName!);
      expect(headless.spec?.clusterIP).toBe('None');
      expect(headless.spec?.publishNotReadyAddresses).toBe(true);
      expect(selects({ matchLabels: headless.spec?.selector }, statefulSet().spec!.template.metadata?.labels)).toBe(true);
      const cluster = natsBlock(conf(), 'cluster');
      expect(cluster).toBeDefined();
      const clusterPort = Number(natsValue(cluster!, 'port'));
      expect(containerPort(container(), 'cluster')).toBe(clusterPort);
      const routes = [...(cluster!.match(/nats:\/\/[^\s,\]"]+/g) ?? [])];
      const expected = Array.from({ length: replicas() }, (_, i) => `nats://nats-${i}.${headless.metadata?.name}:${clusterPort}`);
      expect(routes).toEqual(expected);
    });

    it('serves clients on the nats Service, port 4222, as TRIGRUN_NATS_URL says', () => {
      const url = new URL(one<IConfigMap>('ConfigMap', CONFIG_MAP).data!.TRIGRUN_NATS_URL);
      expect(url.hostname).toBe('nats');
      const service = one<IService>('Service', 'nats');
      expect(service.spec?.type ?? 'ClusterIP').toBe('ClusterIP');
      const port = service.spec?.ports?.find((p) => p.port === Number(url.port));
      expect(port?.port).toBe(4222);
      expect(containerPort(container(), port?.targetPort)).toBe(4222);
    });

    it('probes the monitoring port 8222 on /healthz', () => {
      expect(containerPort(container(), 'monitor')).toBe(8222);
      for (const probe of [container().startupProbe, container().readinessProbe, container().livenessProbe]) {
        const get = probeGet(probe, container());
        expect(get.port).toBe(8222);
        expect(get.path).toMatch(/^\/healthz(\?|$)/);
      }
      expect(natsValue(conf(), 'http_port')).toBe('8222');
    });

    it('streams are not replicated more widely than the cluster', () => {
      expect(Number(one<IConfigMap>('ConfigMap', CONFIG_MAP).data?.TRIGRUN_JETSTREAM_REPLICAS)).toBe(replicas());
    });

    it('keeps quorum through voluntary disruptions', () => {
      const budget = all<IPodDisruptionBudget>('PodDisruptionBudget').filter((b) => selects(b.spec?.selector, statefulSet().spec!.template.metadata?.labels));
      expect(budget).toHaveLength(1);
      expect(budget[0].spec?.maxUnavailable).toBe(Math.floor((replicas() - 1) / 2));
    });
  });

  describe('migration Job', () => {
    const job = () => one<IJob>('Job', 'trigrun-migrate');

    it('runs tools/setup.js from the shared image, with retries and clean-up', () => {
      const container = onlyContainer(job().spec!.template);
      expect(container.image).toBe(IMAGE);
      expect(container.command).toEqual(['node', 'dist/tools/setup.js']);
      expect(job().spec?.backoffLimit).toBeGreaterThan(0);
      expect(job().spec?.ttlSecondsAfterFinished).toBeGreaterThan(0);
      expect(['Never', 'OnFailure']).toContain(job().spec?.template.spec?.restartPolicy);
      expect(container.envFrom?.some((s) => s.configMapRef?.name === CONFIG_MAP)).toBe(true);
      expect(secretKeysOf(container, one<ISecret>('Secret', SECRET))).toContain('TRIGRUN_DATABASE_URL');
    });
  });
});
