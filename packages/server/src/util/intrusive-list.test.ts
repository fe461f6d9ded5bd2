import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { IntrusiveList, type ListLinks } from './intrusive-list.js';

class Member implements ListLinks<Member> {
  listPrevious: Member | undefined;
  listNext: Member | undefined;
  listed = false;
  readonly id: number;
  constructor(id: number) {
    this.id = id;
  }
}

test('an intrusive list holds what a Set would, newest first, and a removed member keeps no links', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 7 })), { maxLength: 60 }),
      (steps) => {
        const members = Array.from({ length: 8 }, (_, id) => new Member(id));
        const list = new IntrusiveList<Member>();
        const model: Member[] = [];
        for (const [adding, id] of steps) {
          const member = members[id]!;
          const index = model.indexOf(member);
          if (adding) {
            list.add(member);
            if (index < 0) model.unshift(member);
          } else {
            assert.equal(list.delete(member), index >= 0);
            if (index >= 0) model.splice(index, 1);
            assert.equal(member.listPrevious, undefined);
            assert.equal(member.listNext, undefined);
          }
          assert.equal(list.size, model.length);
          assert.deepEqual(
            list.toArray().map((m) => m.id),
            model.map((m) => m.id),
          );
        }
      },
    ),
  );
});
