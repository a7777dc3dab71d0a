#!/bin/sh
# Starts one Trellis service from its bundle, the way every deployment does (the image's CMD,
# compose, Kubernetes, `pnpm gateway`, the load suites and `pnpm bench:gateway`):
#
#   ops/start.sh [--build] [--semi-space-mib N] [--outside-heap-mib N] [--min-heap-mib N] BUNDLE [ARGS…]
#
# BUNDLE is `<package>/dist/<entry>.mjs` (`pnpm build`), relative to the repository. The
# process is `node --max-semi-space-size=N [--max-old-space-size=H] --import <dist>/setup.mjs
# BUNDLE ARGS…`, exec'd (no wrapper process stays behind). The V8 old-generation ceiling H is
# sized from the memory limit: MEMORY_LIMIT (bytes or a Kubernetes quantity such as 512Mi;
# Kubernetes sets it from resources.limits.memory), else the cgroup's memory.max (v2) or
# memory.limit_in_bytes (v1). H = limit - young generation (3 semi-spaces) - the allowance for
# memory outside the V8 heap. Without a limit V8 sizes the heap itself, as for any Node process.
#
# Refuses to start, with one line on stderr and exit 1, when: Node is older than the supported
# release; the bundle is missing; the limit leaves less than --min-heap-mib for the heap.
# --build (development: `pnpm gateway`) first rebuilds the bundle when a source is newer.
set -eu

# The oldest supported Node (package.json `engines`; tools/test/start-script.test.ts).
NODE_MIN_MAJOR=24
NODE_MIN_MINOR=11

root=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
fail() {
  echo "start: $*" >&2
  exit 1
}

USAGE='usage: ops/start.sh [--build] [--semi-space-mib N] [--outside-heap-mib N] [--min-heap-mib N] BUNDLE [ARGS...]'
usage() {
  [ -n "$1" ] && echo "start: $1" >&2
  echo "$USAGE" >&2
  exit 2
}
# The value of a MiB option: a whole number.
mib_option() {
  case "${2:-}" in '' | *[!0-9]*) usage "$1 takes a whole number of MiB" ;; esac
}

build=false
semi=16
outside=128
min_heap=64
while [ $# -gt 0 ]; do
  case "$1" in
    --help | -h) echo "$USAGE"; exit 0 ;;
    --build) build=true ;;
    --semi-space-mib) mib_option "$@"; semi=$2; shift ;;
    --outside-heap-mib) mib_option "$@"; outside=$2; shift ;;
    --min-heap-mib) mib_option "$@"; min_heap=$2; shift ;;
    --*) usage "unknown option $1" ;;
    *) break ;;
  esac
  shift
done
[ $# -gt 0 ] || usage ""
bundle=$1
shift
case "$bundle" in /*) ;; *) bundle="$root/$bundle" ;; esac
dist=$(dirname -- "$bundle")

command -v node >/dev/null 2>&1 || fail "no \`node\` on PATH: run \`. ./bootstrap\` (installs Node $NODE_MIN_MAJOR from the npm registry into .node/)"
# A bad NODE_OPTIONS fails here already: say so rather than start nothing.
version=$(node --version 2>&1) || fail "\`node --version\` failed: $(printf '%s' "$version" | head -n 1)"
major=${version#v}; major=${major%%.*}
minor=${version#v*.}; minor=${minor%%.*}
if [ "$major" -lt "$NODE_MIN_MAJOR" ] || { [ "$major" -eq "$NODE_MIN_MAJOR" ] && [ "$minor" -lt "$NODE_MIN_MINOR" ]; }; then
  fail "Node $version is older than the supported $NODE_MIN_MAJOR.$NODE_MIN_MINOR: run \`. ./bootstrap\` (installs Node $NODE_MIN_MAJOR from the npm registry into .node/ and puts it first on PATH), or use the image"
fi

if [ "$build" = true ]; then
  (cd "$root" && node --import tsx tools/src/build.ts --if-stale "$(dirname -- "${dist#"$root"/}")") || fail "building ${bundle#"$root"/} failed"
fi
[ -f "$bundle" ] || fail "${bundle#"$root"/} is missing: run \`pnpm build\` first (the image builds it; \`pnpm gateway\` builds it when stale)"

# The memory limit in MiB, if any.
mib() {
  # bytes or a Kubernetes quantity → MiB (rounded down); empty when not a number.
  printf '%s\n' "$1" | awk '
    match($0, /^[0-9]+(\.[0-9]+)?/) {
      n = substr($0, 1, RLENGTH); unit = substr($0, RLENGTH + 1)
      f["" ] = 1; f["Ki"] = 1024; f["Mi"] = 1048576; f["Gi"] = 1073741824; f["Ti"] = 1099511627776
      f["k"] = 1000; f["K"] = 1000; f["M"] = 1000000; f["G"] = 1000000000; f["T"] = 1000000000000
      if (unit in f) { printf "%d\n", n * f[unit] / 1048576; exit }
    }'
}
limit='' source=''
if [ -n "${MEMORY_LIMIT:-}" ]; then
  limit=$(mib "$MEMORY_LIMIT")
  [ -n "$limit" ] || fail "MEMORY_LIMIT=$MEMORY_LIMIT is not a size (bytes, or a quantity such as 512Mi)"
  source="MEMORY_LIMIT=$MEMORY_LIMIT"
elif [ -r /sys/fs/cgroup/memory.max ] && [ "$(cat /sys/fs/cgroup/memory.max)" != max ]; then
  limit=$(mib "$(cat /sys/fs/cgroup/memory.max)")
  source='cgroup memory.max'
elif [ -r /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
  # cgroup v1 reports "no limit" as a huge number: only a limit below the machine's memory counts.
  v1=$(mib "$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)")
  total=$(awk '/^MemTotal:/ { printf "%d\n", $2 / 1024 }' /proc/meminfo 2>/dev/null || echo 0)
  if [ -n "$v1" ] && [ "$total" -gt 0 ] && [ "$v1" -lt "$total" ]; then
    limit=$v1
    source='cgroup memory.limit_in_bytes'
  fi
fi

set -- "$bundle" "$@"
[ -f "$dist/setup.mjs" ] && set -- --import "$dist/setup.mjs" "$@"
if [ -n "$limit" ]; then
  young=$((3 * semi))
  heap=$((limit - young - outside))
  if [ "$heap" -lt "$min_heap" ]; then
    fail "memory limit ${limit} MiB ($source) is too small for ${bundle#"$root"/}: ${outside} MiB outside the V8 heap and a ${young} MiB young generation leave ${heap} MiB of heap, below its ${min_heap} MiB; raise the limit to at least $((min_heap + young + outside)) MiB"
  fi
  set -- "--max-old-space-size=$heap" "$@"
fi
exec node --max-semi-space-size="$semi" "$@"
