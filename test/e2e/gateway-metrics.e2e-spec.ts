import { BASE_URL, api } from './support/client';

// npm start gives the api-gateway's /metrics listener the port after the five services'.
const metricsUrl = () => {
  const base = new URL(BASE_URL);
  return `http://${base.hostname}:${Number(base.port) + 5}`;
};

describe("the api-gateway's metrics", () => {
  it('are served on a listener of their own, with the read model counter', async () => {
    const res = await fetch(`${metricsUrl()}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/^# TYPE trigrun_projection_failures_total counter$/m);
    expect(text).toMatch(/^trigrun_projection_failures_total \d+$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
  });

  it('answer nothing else on that listener', async () => {
    for (const path of ['/', '/readyz', '/v1/jobs', '/metrics/../readyz']) {
      const res = await fetch(`${metricsUrl()}${path}`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
    }
    expect((await fetch(`${metricsUrl()}/metrics`, { method: 'POST' })).status).toBe(404);
  });

  it('are never reachable through the public base URL', async () => {
    for (const path of ['/metrics', '/metrics?gc=1', '/v1/resume/../../metrics', '/v1/resume/%2e%2e/%2e%2e/metrics']) {
      const res = await api('GET', path);
      expect(res.status).toBe(404);
      expect(res.text).not.toContain('process_resident_memory_bytes');
    }
  });
});
