// etcd auth on a real 3-member cluster through Debian's etcdctl: root and role setup, auth enable,
// refusals with etcd's messages, a prefix-limited user, tokens used on other members, auth disable.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bareEndpoint, etcdctl, etcdctlMissing } from './etcdctl.fixture.js';
import { ProcessCluster } from './process-cluster.js';

describe('auth through etcdctl on a 3-member cluster', { skip: etcdctlMissing() }, () => {
  let cluster: ProcessCluster;
  let one: string;
  let other: string;
  before(async () => {
    cluster = await ProcessCluster.create(3);
    await cluster.startAll();
    one = bareEndpoint(cluster.members[0]!.clientUrl);
    other = bareEndpoint(cluster.members[2]!.clientUrl);
  });
  after(async () => {
    await cluster?.stopAll();
  });

  test('root, roles with prefix permissions, enable, refusals and disable', async () => {
    await etcdctl(one, ['user', 'add', 'root', '--new-user-password=rootpw']);
    await etcdctl(one, ['role', 'add', 'app']);
    await etcdctl(one, ['role', 'grant-permission', 'app', '--prefix=true', 'readwrite', 'app/']);
    await etcdctl(one, ['user', 'add', 'alice', '--new-user-password=alicepw']);
    await etcdctl(one, ['user', 'grant-role', 'alice', 'app']);
    assert.match(await etcdctl(one, ['auth', 'enable']), /Authentication Enabled/);

    await assert.rejects(etcdctl(one, ['get', 'x']), /user name is empty/);
    await assert.rejects(etcdctl(one, ['--user=alice:wrong', 'get', 'x']), /authentication failed/);
    // A token issued by one member is used on another right away.
    await etcdctl(one, ['--user=alice:alicepw', 'put', 'app/k', 'v']);
    assert.equal(await etcdctl(other, ['--user=alice:alicepw', 'get', 'app/k', '--print-value-only']), 'v');
    await assert.rejects(etcdctl(other, ['--user=alice:alicepw', 'put', 'other', 'v']), /permission denied/);
    await assert.rejects(etcdctl(other, ['--user=alice:alicepw', 'user', 'list']), /permission denied/);
    // Every watch a stream creates is checked: none on keys alice may not read.
    const refusedWatch = await etcdctl(other, ['--user=alice:alicepw', 'watch', 'secret']).catch(
      (error: Error) => error.message,
    );
    assert.match(refusedWatch, /permission denied/);
    // Leases through a member that relays keep-alives to the leader, with the caller's token.
    for (const endpoint of [one, other]) {
      const granted = await etcdctl(endpoint, ['--user=alice:alicepw', 'lease', 'grant', '30']);
      const id = /lease ([0-9a-f]+) granted/.exec(granted)?.[1];
      assert.ok(id, granted);
      await etcdctl(endpoint, ['--user=alice:alicepw', 'put', '--lease', id, 'app/leased', 'v']);
      assert.match(
        await etcdctl(endpoint, ['--user=alice:alicepw', 'lease', 'keep-alive', '--once', id]),
        /keepalived/,
      );
    }
    const rootLease = /lease ([0-9a-f]+) granted/.exec(
      await etcdctl(one, ['--user=root:rootpw', 'lease', 'grant', '30']),
    )?.[1];
    await etcdctl(one, ['--user=root:rootpw', 'put', '--lease', rootLease!, 'secret', 's']);
    await assert.rejects(
      etcdctl(other, ['--user=alice:alicepw', 'lease', 'keep-alive', '--once', rootLease!]),
      /permission denied/,
    );
    assert.match(await etcdctl(other, ['--user=root:rootpw', 'user', 'list']), /alice/);

    await etcdctl(one, ['--user=root:rootpw', 'role', 'revoke-permission', 'app', '--prefix=true', 'app/']);
    await assert.rejects(etcdctl(other, ['--user=alice:alicepw', 'get', 'app/k']), /permission denied/);
    assert.match(await etcdctl(one, ['--user=root:rootpw', 'auth', 'disable']), /Authentication Disabled/);
    assert.equal(await etcdctl(other, ['get', 'app/k', '--print-value-only']), 'v');
  });
});
