// Real `synod start` processes serve the admin server on their client port + 2 without being told
// to: every member answers /health/ready once a leader is elected and serves a well-formed /metrics.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ProcessCluster } from '../e2e/process-cluster.js';
import { parsePrometheusText } from '../observability/prom-text-parser.js';
import type { NodeView } from './admin-backend.js';

const WAIT_MS_MAX = 20_000;

function adminUrlOf(clientUrl: string): string {
  const url = new URL(clientUrl);
  return `http://${url.hostname}:${Number(url.port) + 2}`;
}

describe('admin server of synod start processes', { timeout: 60_000 }, () => {
  let cluster: ProcessCluster;
  before(async () => {
    cluster = await ProcessCluster.create(3);
    await cluster.startAll();
  });
  after(() => cluster.stopAll());

  it('listens on client port + 2, turns ready, and serves metrics', async () => {
    for (const member of cluster.members) {
      const admin = adminUrlOf(member.clientUrl);
      const deadline = Date.now() + WAIT_MS_MAX;
      let status = 0;
      while (status !== 200 && Date.now() < deadline) {
        status = await fetch(`${admin}/health/ready`).then(
          (response) => response.status,
          () => 0,
        );
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(status, 200, `${member.name} ready`);
      const view = (await (await fetch(`${admin}/api/node`)).json()) as NodeView;
      assert.equal(view.name, member.name);
      assert.equal(view.adminUrl, admin);
      assert.equal(view.dev, false, 'not started by synod dev');
      const parsed = parsePrometheusText(await (await fetch(`${admin}/metrics`)).text());
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.error.message);
      assert.equal(parsed.families.get('synod_raft_has_leader')?.samples[0]?.value, 1);
      assert.equal((await fetch(`${admin}/api/dev/faults`, { method: 'POST', body: '{}' })).status, 404);
    }
  });
});
