// ops/Dockerfile checked statically (there is no Docker engine here), parsed with
// dockerfile-ast: multi-stage on a Node 24 LTS slim base, the bundles built and the
// devDependencies pruned before the runtime stage, a non-root user, a health check on
// /health/live, every COPY source present in the build context, and every command the compose
// file and the Kubernetes manifests run is a bundle `pnpm build` writes, started by node or
// ops/start.sh (no TypeScript at run time).
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type Copy, DockerfileParser, type Instruction } from 'dockerfile-ast';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { buildTargets, bundlePath } from '../src/build.ts';
import { K8S_DIR } from '../src/k8s.ts';
import { ROOT } from '../src/workspace.ts';

const BASE = 'node:24-bookworm-slim';
const dockerfile = DockerfileParser.parse(readFileSync(join(ROOT, 'ops', 'Dockerfile'), 'utf8'));
const rootPackage = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

interface Stage {
  name: string | null;
  image: string;
  instructions: Instruction[];
}
/** The build stages in order, each with its instructions after FROM. */
const stages: Stage[] = [];
for (const instruction of dockerfile.getInstructions()) {
  const args = instruction.getArguments().map((a) => a.getValue());
  if (instruction.getKeyword() === 'FROM') {
    const as = args.findIndex((a) => a.toUpperCase() === 'AS');
    stages.push({ name: as === -1 ? null : args[as + 1]!, image: args[0]!, instructions: [] });
  } else stages.at(-1)?.instructions.push(instruction);
}
const runtime = stages.at(-1)!;
const argsOf = (i: Instruction) => i.getArguments().map((a) => a.getValue());
const of = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.getKeyword() === keyword);
/** The stage a COPY takes its files from (`--from=`), or undefined for the build context. */
const copyFrom = (copy: Instruction) => (copy as Copy).getFromFlag()?.getValue() ?? undefined;
/** A stage and the stages it is built FROM. */
function lineage(stage: Stage): Stage[] {
  const parent = stages.find((s) => s.name === stage.image);
  return parent ? [...lineage(parent), stage] : [stage];
}

describe('ops/Dockerfile', () => {
  it('is multi-stage on the Node 24 LTS slim base, the runtime stage built from the base image itself', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const names = stages.map((s) => s.name);
    for (const stage of stages) {
      // Every stage starts from an earlier stage or from the one base image.
      if (!names.slice(0, stages.indexOf(stage)).includes(stage.image)) expect(stage.image).toBe(BASE);
    }
    expect(runtime.image).toBe(BASE);
    // The image's Node is the workspace's engine range.
    expect(rootPackage.engines.node).toMatch(/^>=24\./);
  });

  it('builds the bundles, then keeps production dependencies only, from the frozen lockfile, with the pinned pnpm', () => {
    const runs = stages.flatMap((s) => of(s, 'RUN').map((i) => i.getArgumentsContent() ?? ''));
    expect(runs.some((r) => /pnpm install\b.*--frozen-lockfile/.test(r))).toBe(true);
    const pnpmVersion = String(rootPackage.packageManager).replace('pnpm@', '');
    expect(runs.some((r) => r.includes(`pnpm@${pnpmVersion}`))).toBe(true);
    // The runtime stage installs nothing: it copies a build stage that bundled every
    // deployable and then reinstalled with --prod (which removes the devDependencies).
    expect(of(runtime, 'RUN')).toEqual([]);
    const copies = of(runtime, 'COPY');
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      const from = copyFrom(copy);
      expect(from, copy.toString()).toBeDefined();
      const source = stages.find((s) => s.name === from);
      expect(source, `stage ${from}`).toBeDefined();
      const steps = lineage(source!)
        .flatMap((s) => of(s, 'RUN').map((i) => i.getArgumentsContent() ?? ''))
        .flatMap((r) => r.split('&&').map((step) => step.replace(/\\\n/g, ' ').trim()));
      const installs = steps.filter((r) => /^pnpm install\b/.test(r));
      expect(installs.at(-1), 'the last install').toMatch(/--prod\b/);
      const built = steps.findIndex((r) => /^pnpm build\b/.test(r));
      expect(built, 'pnpm build').toBeGreaterThan(-1);
      expect(built, 'built before pruning').toBeLessThan(steps.lastIndexOf(installs.at(-1)!));
    }
  });

  it('copies the patches pnpm applies (pnpm-workspace.yaml patchedDependencies) before fetching', () => {
    const workspace = parse(readFileSync(join(ROOT, 'pnpm-workspace.yaml'), 'utf8')) as {
      patchedDependencies?: Record<string, string>;
    };
    const patches = Object.values(workspace.patchedDependencies ?? {});
    const fetching = stages.find((s) => of(s, 'RUN').some((i) => /\bpnpm fetch\b/.test(i.getArgumentsContent() ?? '')));
    expect(fetching, 'the stage that runs pnpm fetch').toBeDefined();
    const fetchAt = fetching!.instructions.findIndex(
      (i) => i.getKeyword() === 'RUN' && /\bpnpm fetch\b/.test(i.getArgumentsContent() ?? ''),
    );
    const copied = lineage(fetching!)
      .flatMap((s) => (s === fetching ? s.instructions.slice(0, fetchAt) : s.instructions))
      .filter((i) => i.getKeyword() === 'COPY' && !copyFrom(i))
      .flatMap((i) =>
        argsOf(i)
          .slice(0, -1)
          .map((source) => source.replace(/^\.\/|\/$/g, '')),
      );
    for (const patch of patches) {
      expect(existsSync(join(ROOT, patch)), patch).toBe(true);
      expect(
        copied.some((source) => source === '.' || patch === source || patch.startsWith(`${source}/`)),
        `${patch} copied before pnpm fetch`,
      ).toBe(true);
    }
  });

  it('runs as a non-root user and checks its health on /health/live', () => {
    const users = of(runtime, 'USER').map((i) => argsOf(i)[0]);
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0', '0:0']).not.toContain(users.at(-1));
    const [healthcheck] = of(runtime, 'HEALTHCHECK');
    expect(healthcheck?.getArgumentsContent()).toMatch(/\bCMD\b.*\/health\/live/s);
    // No curl in a slim image: the check must use what the image has (node).
    expect(healthcheck?.getArgumentsContent()).toMatch(/"node"|\bnode\b/);
  });

  it('copies only sources that exist in the build context, and the context leaves out node_modules and .git', () => {
    for (const stage of stages) {
      for (const copy of of(stage, 'COPY')) {
        if (copyFrom(copy)) continue;
        for (const source of argsOf(copy).slice(0, -1)) expect(existsSync(join(ROOT, source)), source).toBe(true);
      }
    }
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules', '**/node_modules', '.git']) expect(ignored).toContain(entry);
  });

  it('runs every compose and Kubernetes command from the production install', () => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, { build?: unknown; command?: string[] }>;
    };
    const commands = Object.values(compose.services)
      .filter((s) => s.build && s.command)
      .map((s) => s.command!);
    const kustomization = parse(readFileSync(join(K8S_DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    for (const file of kustomization.resources)
      for (const doc of parseAllDocuments(readFileSync(join(K8S_DIR, file), 'utf8')).map((d) => d.toJS()))
        if (doc.kind === 'Deployment') commands.push(doc.spec.template.spec.containers[0].command);
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) {
      expect(['node', 'ops/start.sh'], command.join(' ')).toContain(command[0]);
      expect(command.join(' ')).not.toMatch(/\btsx\b|--import/);
      const entry = command.find((arg) => /\.(ts|mjs|js)$/.test(arg));
      // A bundle of `pnpm build` (tools/src/build.ts), never a TypeScript source.
      expect(entry, command.join(' ')).toMatch(/^(gateway|tools|subgraphs\/[a-z0-9]+)\/dist\/[\w-]+\.mjs$/);
      const target = buildTargets().find((t) => entry!.startsWith(`${relative(ROOT, t.dir)}/dist/`));
      expect(target, entry).toBeDefined();
      expect(Object.keys(target!.entries).map((e) => relative(ROOT, bundlePath(target!, e)))).toContain(entry);
    }
  });
});
