import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MEMBER_SEMI_SPACE_MIB, memberNodeFlags } from './member-node-flags.js';

test('members get a semi-space cap unless the caller chose one', () => {
  assert.deepEqual(memberNodeFlags({}, []), [`--max-semi-space-size=${MEMBER_SEMI_SPACE_MIB}`]);
  assert.deepEqual(memberNodeFlags({ NODE_OPTIONS: '--enable-source-maps' }, ['--import', 'tsx']), [
    `--max-semi-space-size=${MEMBER_SEMI_SPACE_MIB}`,
  ]);
  assert.deepEqual(memberNodeFlags({ NODE_OPTIONS: '--max-semi-space-size=32' }, []), []);
  assert.deepEqual(memberNodeFlags({}, ['--max_semi_space_size=2']), []);
});
