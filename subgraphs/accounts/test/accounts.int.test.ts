import { startTestSubgraph, type TestSubgraph } from '@trellis/testing/subgraph';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { subgraph } from '../src/service.ts';

let service: TestSubgraph;
beforeAll(async () => {
  service = await startTestSubgraph(subgraph, inject('databaseUrl'));
});
afterAll(async () => {
  await service?.stop();
});

describe('accounts subgraph', () => {
  it('serves a seeded user by id, never their email to an anonymous caller', async () => {
    const [row] = await service.running.database.sql`select name, username from accounts.users where id = 2`;
    const { body } = await service.query(
      '{ user(id: "2") { id name username email createdAt } nobody: user(id: "5000") { id } me { id } }',
    );
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({
      user: {
        id: '2',
        name: row!.name,
        username: row!.username,
        email: null,
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
      nobody: null,
      me: null,
    });
  });

  it('resolves a batch of User references in one statement', async () => {
    service.statements.reset();
    const { body } = await service.query(
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id name } } }',
      { r: ['3', '1', '999999', 'nope'].map((id) => ({ __typename: 'User', id })) },
    );
    expect(body.errors).toBeUndefined();
    expect((body.data as any)._entities.map((u: any) => u?.id ?? null)).toEqual(['3', '1', null, null]);
    expect(service.statements.count).toBe(1);
  });
});
