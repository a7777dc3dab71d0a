// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the client sources under test interpolate on purpose
// Client artefacts: the trusted-documents manifest and typed documents come from one
// client-preset run; operations built from interpolated fragments are read; anything the
// extractor cannot read or validate fails the run naming the file, never skipped.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSchema, parse } from 'graphql';
import { afterAll, describe, expect, it } from 'vitest';
import { checkOperations } from '../src/client-documents.ts';
import { API_SCHEMA_PATH } from '../src/compose.ts';
import { ROOT } from '../src/workspace.ts';

const schema = buildSchema(readFileSync(API_SCHEMA_PATH, 'utf8'));
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const temp = mkdtempSync(join(tmpdir(), 'trellis-documents-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** A client folder with these files (path → text). */
function client(name: string, files: Record<string, string>): string {
  const dir = join(temp, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

// In a child process: codegen mixes CommonJS and ESM copies of graphql under Vitest.
function extract(dir: string, ...flags: string[]) {
  const out = join(dir, 'manifest.json');
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'tools/src/documents.ts'), dir, '--out', out, ...flags],
    { cwd: ROOT, encoding: 'utf8' },
  );
  return { ...result, manifest: () => JSON.parse(readFileSync(out, 'utf8')) };
}

describe('documents:extract and pnpm codegen for clients', { timeout: 30_000 }, () => {
  it('storefront: manifest and typed documents up to date, ids are the sha256 of the body and the ids the documents carry', () => {
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'tools/src/codegen.ts'), 'storefront', '--check'],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const manifest = JSON.parse(readFileSync(join(ROOT, 'clients/storefront/persisted-operations.json'), 'utf8'));
    expect(manifest.format).toBe('apollo-persisted-query-manifest');
    const names = manifest.operations.map((o: { name: string }) => o.name);
    expect(names).toEqual(['AddReview', 'Catalogue', 'Me', 'OrderStatus', 'PlaceOrder', 'ProductPage']);
    const typed = readFileSync(join(ROOT, 'clients/storefront/src/generated/graphql.ts'), 'utf8');
    for (const operation of manifest.operations) {
      expect(operation.id).toBe(sha256(operation.body));
      expect(typed).toContain(`{"hash":"${operation.id}"}`);
    }
    const catalogue = manifest.operations.find((o: { name: string }) => o.name === 'Catalogue');
    expect(catalogue.body).toContain('fragment ProductCard on Product');
  });

  it('reads an operation built from an interpolated fragment (${FRAGMENT}) into the manifest, fragment included', () => {
    const dir = client('apollo-style', {
      'src/card.ts':
        "import { gql } from '@apollo/client';\nexport const CARD = gql`\n  fragment Card on Product { id name }\n`;\n",
      'src/cards.ts':
        "import { gql } from '@apollo/client';\nimport { CARD } from './card';\nexport const CARDS = gql`\n  query Cards { products(first: 2) { edges { node { ...Card } } } }\n  ${CARD}\n`;\n",
      'src/page.graphql': 'query One($id: ID!) { product(id: $id) { ...Card price } }\n',
    });
    const result = extract(dir);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const operations = result.manifest().operations;
    expect(operations.map((o: { name: string }) => o.name)).toEqual(['Cards', 'One']);
    expect(operations[0].body).toBe(
      'fragment Card on Product { id name } query Cards { products(first: 2) { edges { node { ...Card } } } }',
    );
    expect(operations[0].id).toBe(sha256(operations[0].body));
  });

  it('fails the run on a template it cannot read, naming the file and the interpolation', () => {
    const dir = client('unreadable', {
      'src/ok.ts': 'export const OK = gql`\n  query Ok { products(first: 1) { totalCount } }\n`;\n',
      'src/dynamic.ts':
        "const field = 'name';\nexport const Q = gql`\n  query Dynamic { products(first: 2) { edges { node { ${field} } } } }\n`;\n",
      'src/broken.ts': 'export const B = /* GraphQL */ `\n  query Broken { products(first: 2) {\n`;\n',
    });
    const result = extract(dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'src/dynamic.ts: line 3: cannot read the interpolation ${field}: only fragment documents may be interpolated, outside selections',
    );
    expect(result.stderr).toMatch(/unreadable\/src\/broken\.ts: Syntax Error/);
  });

  it('fails the run on an interpolated fragment that is defined nowhere', () => {
    const dir = client('missing-fragment', {
      'src/q.ts':
        'export const Q = gql`\n  query Q { products(first: 2) { edges { node { ...Missing } } } }\n  ${MISSING}\n`;\n',
    });
    const result = extract(dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('src/q.ts: operation Q: Unknown fragment "Missing".');
  });

  it('refuses unknown flags (exit 2) and reports a stale manifest with --check', () => {
    expect(extract(temp, '--bogus').status).toBe(2);
    const dir = client('stale', { 'src/q.graphql': 'query Q { products(first: 1) { totalCount } }\n' });
    writeFileSync(join(dir, 'manifest.json'), '{}\n');
    const stale = extract(dir, '--check');
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain('is stale');
  });

  it('fails an operation that no longer validates against the API schema, naming it and the field', () => {
    const problems = checkOperations(
      [
        {
          file: join(ROOT, 'clients/x/old.graphql'),
          document: parse('query Old { product(id: "1") { sku } }'),
          rawSDL: 'a',
        },
      ],
      schema,
    );
    expect(problems).toEqual(['clients/x/old.graphql: operation Old: Cannot query field "sku" on type "Product".']);
  });

  it('refuses anonymous operations and two different bodies under one name', () => {
    const source = (file: string, text: string) => ({ file: join(ROOT, file), document: parse(text), rawSDL: text });
    const problems = checkOperations(
      [
        source('a.graphql', '{ product(id: "1") { id } }'),
        source('b.graphql', 'query Same { product(id: "1") { id } }'),
        source('c.graphql', 'query Same { product(id: "2") { id } }'),
      ],
      schema,
    );
    expect(problems).toEqual([
      'a.graphql: operations must be named',
      'c.graphql: operation Same is defined twice with different bodies',
    ]);
  });
});
