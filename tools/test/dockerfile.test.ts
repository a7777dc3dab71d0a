// ops/Dockerfile checked statically (there is no Docker engine here), parsed with
// dockerfile-ast: multi-stage on a Node 22 LTS slim base, production dependencies only in the
// runtime stage, a non-root user, a health check on /health/live, every COPY source present
// in the build context, and every command the compose file and the Kubernetes manifests run
// resolvable from the production install (`--import` packages are root dependencies).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Copy, DockerfileParser, type Instruction } from 'dockerfile-ast';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { K8S_DIR } from '../src/k8s.ts';
import { ROOT } from '../src/workspace.ts';

const BASE = 'node:22-bookworm-slim';
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
  it('is multi-stage on the Node 22 LTS slim base, the runtime stage built from the base image itself', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const names = stages.map((s) => s.name);
    for (const stage of stages) {
      // Every stage starts from an earlier stage or from the one base image.
      if (!names.slice(0, stages.indexOf(stage)).includes(stage.image)) expect(stage.image).toBe(BASE);
    }
    expect(runtime.image).toBe(BASE);
    // Node 22 satisfies the workspace's engine range.
    expect(rootPackage.engines.node).toMatch(/>=22\./);
  });

  it('installs production dependencies only, from the frozen lockfile, with the pinned pnpm', () => {
    const runs = stages.flatMap((s) => of(s, 'RUN').map((i) => i.getArgumentsContent() ?? ''));
    const installs = runs.filter((r) => /\bpnpm (install|fetch|i)\b/.test(r));
    expect(installs.length).toBeGreaterThan(0);
    for (const run of installs) expect(run, run).toMatch(/--prod\b/);
    expect(installs.some((r) => /pnpm install\b.*--frozen-lockfile/.test(r))).toBe(true);
    const pnpmVersion = String(rootPackage.packageManager).replace('pnpm@', '');
    expect(runs.some((r) => r.includes(`pnpm@${pnpmVersion}`))).toBe(true);
    // The runtime stage installs nothing: it copies the production install of a build stage.
    expect(of(runtime, 'RUN')).toEqual([]);
    const copies = of(runtime, 'COPY');
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      const from = copyFrom(copy);
      expect(from, copy.toString()).toBeDefined();
      const source = stages.find((s) => s.name === from);
      expect(source, `stage ${from}`).toBeDefined();
      const sourceRuns = lineage(source!).flatMap((s) => of(s, 'RUN').map((i) => i.getArgumentsContent() ?? ''));
      expect(sourceRuns.filter((r) => /pnpm install\b/.test(r)).every((r) => /--prod\b/.test(r))).toBe(true);
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
      expect(command[0]).toBe('node');
      // `node --import X` resolves X from the working directory (/app): a root dependency,
      // since devDependencies are not installed in the image.
      command.forEach((arg, i) => {
        if (arg !== '--import') return;
        const specifier = command[i + 1]!;
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
        expect(rootPackage.dependencies?.[name], `${command.join(' ')}: ${name} in root dependencies`).toBeDefined();
      });
      const entry = command.find((arg) => /\.(ts|mjs|js)$/.test(arg));
      expect(entry && existsSync(join(ROOT, entry)), `${command.join(' ')}: entry`).toBe(true);
      // The entry's package runs TypeScript through tsx: a production dependency there too.
      const owner = entry!
        .split('/')
        .slice(0, entry!.startsWith('subgraphs/') ? 2 : 1)
        .join('/');
      const pkg = JSON.parse(readFileSync(join(ROOT, owner, 'package.json'), 'utf8'));
      expect(pkg.dependencies?.tsx, `${owner}: tsx in dependencies`).toBeDefined();
    }
  });
});
