import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Channel } from './channel.js';
import { ClosedError } from './errors.js';

describe('Channel', () => {
  test('a send waits while the buffer is full and resumes when a receiver makes room', async () => {
    const channel = new Channel<number>(1);
    await channel.send(1);
    let secondDelivered = false;
    const second = channel.send(2).then(() => (secondDelivered = true));
    await Promise.resolve();
    assert.equal(secondDelivered, false);
    assert.deepEqual(await channel.receive(), { done: false, value: 1 });
    await second;
    assert.deepEqual(await channel.receive(), { done: false, value: 2 });
  });

  test('capacity 0 hands each item directly from sender to receiver', async () => {
    const channel = new Channel<string>(0);
    const sent = channel.send('hello');
    assert.equal(channel.length, 0);
    assert.deepEqual(await channel.receive(), { done: false, value: 'hello' });
    await sent;
  });

  test('after close, receivers drain what is buffered and then see the end', async () => {
    const channel = new Channel<number>(4);
    await channel.send(1);
    await channel.send(2);
    channel.close();
    await assert.rejects(channel.send(3), ClosedError);
    const received: number[] = [];
    for await (const item of channel) received.push(item);
    assert.deepEqual(received, [1, 2]);
  });

  test('fail rejects waiting senders and receivers with the error', async () => {
    const channel = new Channel<number>(0);
    const receiver = channel.receive();
    const full = new Channel<number>(0);
    const sender = full.send(1);
    channel.fail(new Error('upstream broke'));
    full.fail(new Error('downstream broke'));
    await assert.rejects(receiver, /upstream broke/);
    await assert.rejects(sender, /downstream broke/);
  });

  test('delivers every item exactly once, in order, between concurrent senders and receivers', async () => {
    const channel = new Channel<number>(3);
    const producer = (async () => {
      for (let item = 0; item < 200; item++) await channel.send(item);
      channel.close();
    })();
    const received: number[] = [];
    for await (const item of channel) received.push(item);
    await producer;
    assert.deepEqual(
      received,
      Array.from({ length: 200 }, (_, index) => index),
    );
  });
});
