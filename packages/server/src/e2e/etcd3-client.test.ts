// The etcd3 npm client (what our users run) against a real 3-process Synod cluster.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Etcd3 } from 'etcd3';
import { ProcessCluster } from './process-cluster.js';

describe('the etcd3 npm client against a 3-member cluster', () => {
  let cluster: ProcessCluster;
  let client: Etcd3;
  before(async () => {
    cluster = await ProcessCluster.create(3);
    await cluster.startAll();
    client = new Etcd3({ hosts: cluster.members.map((member) => member.clientUrl) });
  });
  after(async () => {
    client?.close();
    await cluster?.stopAll();
  });

  test('put, get, prefix get and delete', async () => {
    await client.put('config/a').value('1');
    await client.put('config/b').value('2');
    assert.equal(await client.get('config/a').string(), '1');
    assert.deepEqual(await client.getAll().prefix('config/').strings(), { 'config/a': '1', 'config/b': '2' });
    assert.equal(await client.getAll().prefix('config/').count(), 2);
    await client.delete().key('config/a');
    assert.equal(await client.get('config/a').string(), null);
  });

  test('transactions with compares on version and value', async () => {
    await client.put('counter').value('0');
    const result = await client
      .if('counter', 'Value', '==', '0')
      .then(client.put('counter').value('1'))
      .else(client.put('counter').value('lost'))
      .commit();
    assert.equal(result.succeeded, true);
    const again = await client
      .if('counter', 'Version', '==', 1)
      .then(client.put('counter').value('never'))
      .commit();
    assert.equal(again.succeeded, false, 'the key was modified twice, so its version is 2');
    assert.equal(await client.get('counter').string(), '1');
  });

  test("etcd's errors reach the client with etcd's messages", async () => {
    await assert.rejects(async () => client.put('').value('x'), /key is not provided/);
  });
});
