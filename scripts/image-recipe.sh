#!/usr/bin/env bash
# The Dockerfile's recipe without a Docker engine, so CI exercises the image it describes:
#   build   `npm ci --ignore-scripts`, `npm run build` on a copy of the build context
#   deps    `npm ci --omit=dev`, then the same better-sqlite3 clean-up
#   app     /app laid out as the COPY lines do, the /usr/local/bin symlinks, /data owned by the image's user
#   run     `hopwatch --version`, `hopwatch run` (ENTRYPOINT + CMD) and the HEALTHCHECK command as the
#           image's USER with the image's ENV (read from the Dockerfile), chrooted into a root where
#           everything but /data and /tmp is read-only (the Deployment's readOnlyRootFilesystem and
#           emptyDir /tmp); /healthz and /metrics must answer, and /readyz too with --kubeconfig.
#   demo    (--demo) the demo stage's CMD the same way: the lab starts and routes get verdicts.
#
# What differs from `docker build`, and why it is the same:
# - npm ci: the repository's node_modules is what `npm ci` made from the same package-lock.json
#   (scripts/setup.sh; better-sqlite3 built from source against Node 20's headers, as the deps stage
#   does). The build stage uses it as is (tsc only reads it). The deps stage copies it and runs
#   `npm prune --omit=dev`, which leaves what `npm ci --omit=dev` installs: checked below, the pruned
#   tree holds exactly package-lock.json's non-dev packages at the locked versions. This saves a
#   second ~75 s compile of better-sqlite3.
# - The image's Node and Debian packages are this machine's (Node 20, bookworm: the same base).
# - HOPWATCH_LISTEN moves to a loopback address of block 127.211 with an ephemeral port (tests
#   bind nothing else); `npm cache clean` is skipped (it would clean this machine's cache).
# Root is needed for chroot, mount namespaces and setpriv. Without them the run happens as the
# current user (when not root) with the image's paths under the temp dir, and one line says so.
#
# Usage: scripts/image-recipe.sh [--kubeconfig FILE] [--demo] [--ip 127.211.0.20] [--keep]
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

KUBECONFIG_IN=''
DEMO=0
IP=127.211.0.20
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --kubeconfig) KUBECONFIG_IN=$2; shift 2 ;;
    --demo) DEMO=1; shift ;;
    --ip) IP=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) echo "image-recipe: unknown argument $1" >&2; exit 2 ;;
  esac
done

say() { echo "image-recipe: $*"; }
fail() { echo "image-recipe: FAIL: $*" >&2; exit 1; }

[ -d node_modules ] || fail "node_modules is missing: run scripts/setup.sh (npm ci) first"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hopwatch-image.XXXXXX")
chmod 755 "$WORK"
PIDS=()

cleanup() {
  local status=$?
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  # Mounts live in private namespaces that died with their processes; never delete through one.
  if grep -qF " $WORK/" /proc/self/mountinfo; then
    echo "image-recipe: something is still mounted under $WORK; not removing it" >&2
  elif [ "$KEEP" -eq 0 ]; then
    rm -rf --one-file-system "$WORK"
  else
    say "kept $WORK"
  fi
  exit "$status"
}
trap cleanup EXIT
# A signal ends the script through the EXIT trap, which stops what it started.
trap 'exit 143' TERM INT

# ---------------------------------------------------------------------------------------------
# The Dockerfile's facts: read from it, so the run below cannot drift from the image.
cat > "$WORK/dockerfile.mjs" <<'EOF'
// Prints one fact of a Dockerfile stage, NUL-separated: node dockerfile.mjs FILE STAGE FIELD
import { readFileSync } from 'node:fs';
const [file, stage, field] = process.argv.slice(2);
const lines = readFileSync(file, 'utf8').replace(/\\\r?\n/g, ' ').split(/\r?\n/).filter((l) => !/^\s*(#|$)/.test(l));
const stages = new Map();
let current = null;
for (const line of lines) {
  const [, op, rest] = /^\s*(\S+)\s*(.*)$/.exec(line);
  if (op.toUpperCase() === 'FROM') {
    const m = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(rest);
    current = { from: m[1], instructions: [...(stages.get(m[1])?.instructions ?? [])] };
    stages.set(m[2] ?? `#${stages.size}`, current);
  } else current?.instructions.push([op.toUpperCase(), rest.trim()]);
}
const found = stages.get(stage);
if (!found) throw new Error(`no stage ${stage}`);
const last = (op) => found.instructions.filter(([o]) => o === op).at(-1)?.[1];
const json = (text) => JSON.parse(text);
let out = [];
if (field === 'env') for (const [o, r] of found.instructions) { if (o === 'ENV') out.push(...r.split(/\s+/).filter((t) => t.includes('='))); }
if (field === 'user') out = [last('USER')];
if (field === 'entrypoint') out = json(last('ENTRYPOINT'));
if (field === 'cmd') out = json(last('CMD'));
if (field === 'healthcheck') out = json(last('HEALTHCHECK').replace(/^.*?\bCMD\s+/, ''));
process.stdout.write(out.map((s) => `${s}\0`).join(''));
EOF
fact() { node "$WORK/dockerfile.mjs" Dockerfile "$1" "$2"; }
mapfile -d '' IMAGE_ENV < <(fact app env)
mapfile -d '' ENTRYPOINT < <(fact app entrypoint)
mapfile -d '' CMD < <(fact app cmd)
mapfile -d '' HEALTHCHECK < <(fact app healthcheck)
mapfile -d '' DEMO_CMD < <(fact demo cmd)
USER_SPEC=$(fact app user | tr -d '\0')
RUN_UID=${USER_SPEC%%:*}
RUN_GID=${USER_SPEC##*:}
say "image: USER $USER_SPEC, ENV ${IMAGE_ENV[*]}, ENTRYPOINT ${ENTRYPOINT[*]}, CMD ${CMD[*]}"

# ---------------------------------------------------------------------------------------------
# build stage
BUILD=$WORK/build
mkdir -p "$BUILD/test"
cp package.json package-lock.json tsconfig.json tsconfig.build.json "$BUILD/"
cp -a src "$BUILD/src"
cp -a test/lab "$BUILD/test/lab"
# .dockerignore keeps tests and their fixtures out of the context.
find "$BUILD/src" "$BUILD/test" -name '*.test.ts' -delete
find "$BUILD/src" "$BUILD/test" -depth -type d -name testdata -exec rm -rf {} +
ln -s "$REPO/node_modules" "$BUILD/node_modules"   # for: npm ci --ignore-scripts
(cd "$BUILD" && npm run --silent build)
[ -f "$BUILD/dist/src/cli/main.js" ] || fail "npm run build made no dist/src/cli/main.js"
say "build: npm run build ok"

# ---------------------------------------------------------------------------------------------
# deps stage
DEPS=$WORK/deps
mkdir -p "$DEPS"
cp package.json package-lock.json "$DEPS/"
cp -a node_modules "$DEPS/node_modules"            # for: npm ci --omit=dev
(cd "$DEPS" && npm prune --omit=dev --no-audit --no-fund --offline --loglevel=error >/dev/null)
node - "$DEPS" "$REPO" <<'EOF'
// The pruned tree is what `npm ci --omit=dev` installs: the lock's non-dev packages, locked versions.
const { readFileSync } = require('node:fs');
const [deps, repo] = process.argv.slice(2);
const read = (p) => JSON.parse(readFileSync(p, 'utf8')).packages;
const lock = read(`${deps}/package-lock.json`);
const full = read(`${repo}/node_modules/.package-lock.json`);
const pruned = read(`${deps}/node_modules/.package-lock.json`);
const problems = [];
for (const [path, entry] of Object.entries(lock)) {
  if (path === '') continue;
  // Not installed here: only optional packages of other platforms may be missing (npm ci skips them too).
  if (!(path in full)) { if (!entry.optional && !entry.devOptional) problems.push(`${path} is in the lock but not installed: run npm ci`); continue; }
  if (full[path].version !== entry.version) problems.push(`${path} is ${full[path].version}, the lock says ${entry.version}: run npm ci`);
  if (!entry.dev && !(path in pruned)) problems.push(`${path} (production) was pruned`);
}
for (const path of Object.keys(pruned)) if (lock[path]?.dev !== false && lock[path]?.dev) problems.push(`${path} (dev only) survived the prune`);
for (const path of Object.keys(pruned)) if (!(path in lock)) problems.push(`${path} is not in the lock`);
if (problems.length > 0) { console.error(problems.join('\n')); process.exit(1); }
EOF
rm -rf "$DEPS/node_modules/better-sqlite3/deps" "$DEPS/node_modules/better-sqlite3/src" "$DEPS/node_modules/better-sqlite3/build/Release/obj" "$DEPS/node_modules/better-sqlite3/build/Release/obj.target" "$DEPS/node_modules/better-sqlite3/build/Release/.deps" "$DEPS/node_modules/better-sqlite3/build/Release/sqlite3.a" "$DEPS/node_modules/better-sqlite3/build/Release/test_extension.node"
say "deps: production tree equals npm ci --omit=dev ($(ls "$DEPS/node_modules" | wc -l) top-level entries)"

# ---------------------------------------------------------------------------------------------
# app stage: the image's root file system (what chroot sees)
ROOTFS=$WORK/rootfs
APP=$ROOTFS/app
mkdir -p "$APP" "$ROOTFS/data" "$ROOTFS/tmp" "$ROOTFS/kube" "$ROOTFS/bin-links"
cp package.json "$APP/"
mv "$DEPS/node_modules" "$APP/node_modules"
mv "$BUILD/dist" "$APP/dist"
cp -a bin "$APP/bin"
cp -a migrations "$APP/migrations"
cp -a dashboard "$APP/dashboard"
cp deploy/docker/healthcheck.mjs "$APP/healthcheck.mjs"
chmod -R a+rX "$APP"
chmod 1777 "$ROOTFS/tmp"

if [ -n "$KUBECONFIG_IN" ]; then
  cp "$KUBECONFIG_IN" "$ROOTFS/kube/config"
else
  # No cluster: an API server address where nothing listens (/healthz still answers, /readyz does not).
  cat > "$ROOTFS/kube/config" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://$IP:1"}}]
users: [{name: none, user: {token: none}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
current-context: none
EOF
fi
chmod 644 "$ROOTFS/kube/config"

# How the image's processes are started: chroot + setpriv in a private mount namespace when root can,
# else the current (non-root) user with the image's paths under $ROOTFS.
MODE=direct
if [ "$(id -u)" -eq 0 ]; then
  if unshare --mount --propagation private true 2>/dev/null && command -v setpriv >/dev/null; then
    MODE=chroot
    chown "$RUN_UID:$RUN_GID" "$ROOTFS/data"
  else
    fail "running as root, but mount namespaces (unshare) or setpriv are unavailable: cannot start as the image's non-root user"
  fi
else
  say "SKIP read-only root and the image's uid $RUN_UID: not root; running as uid $(id -u) (non-root) with the image's paths under $ROOTFS"
fi
# The Dockerfile's `ln -s /app/bin/... /usr/local/bin/...` (copied into /usr/local/bin in the chroot).
APP_IN_IMAGE=/app
[ "$MODE" = chroot ] || APP_IN_IMAGE=$APP
ln -s "$APP_IN_IMAGE/bin/hopwatch.js" "$ROOTFS/bin-links/hopwatch"
ln -s "$APP_IN_IMAGE/bin/kubectl-hopwatch" "$ROOTFS/bin-links/kubectl-hopwatch"

# The image's environment, with /data and HOPWATCH_LISTEN as described above.
image_env() {
  local prefix=$1 listen=$2
  local path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  [ -z "$prefix" ] || path=$prefix/bin-links:$path
  local out=(PATH="$path" HOME=/home/node KUBECONFIG="$prefix/kube/config")
  local kv
  for kv in "${IMAGE_ENV[@]}"; do
    case "$kv" in
      HOPWATCH_LISTEN=*) out+=("HOPWATCH_LISTEN=$listen") ;;
      HOPWATCH_DB=/data/*) out+=("HOPWATCH_DB=$prefix/data/${kv#HOPWATCH_DB=/data/}") ;;
      *) out+=("$kv") ;;
    esac
  done
  printf '%s\0' "${out[@]}"
}

# Runs a command of the image (argv) in the background with its log in $1; sets STARTED_PID.
start_in_image() {
  local log=$1 listen=$2
  shift 2
  local env_list
  if [ "$MODE" = chroot ]; then
    mapfile -d '' env_list < <(image_env "" "$listen")
    # The mounts: root read-only (binds of /usr and /etc, /app), /data and /tmp writable, hopwatch's
    # symlinks in /usr/local/bin as the image has them. exec keeps one pid from unshare to node.
    unshare --mount --propagation private bash -c '
      set -e
      r=$1; shift
      mount --bind "$r" "$r"
      for d in usr etc; do mkdir -p "$r/$d"; mount --rbind "/$d" "$r/$d"; mount -o remount,bind,ro "$r/$d"; done
      for d in bin sbin lib lib64; do
        if [ -L "/$d" ]; then [ -e "$r/$d" ] || ln -s "$(readlink "/$d")" "$r/$d"; elif [ -d "/$d" ]; then mkdir -p "$r/$d"; mount --rbind "/$d" "$r/$d"; mount -o remount,bind,ro "$r/$d"; fi
      done
      mkdir -p "$r/dev" "$r/proc"
      mount --rbind /dev "$r/dev"
      mount --rbind /proc "$r/proc"
      mount -t tmpfs -o mode=755 tmpfs "$r/usr/local/bin"
      cp -P "$r"/bin-links/* "$r/usr/local/bin/"
      mount -o remount,ro "$r/usr/local/bin"
      mount --bind "$r/data" "$r/data"
      mount --bind "$r/tmp" "$r/tmp"
      mount --bind "$r/app" "$r/app"
      mount -o remount,bind,ro "$r/app"
      mount -o remount,bind,ro "$r"
      exec chroot "$r" setpriv --reuid="$UID_" --regid="$GID_" --clear-groups --inh-caps=-all --no-new-privs "$@"
    ' image "$ROOTFS" env -i "${env_list[@]}" "$@" >"$log" 2>&1 &
  else
    mapfile -d '' env_list < <(image_env "$ROOTFS" "$listen")
    local argv=("$@")
    # Paths of the image (/app/...) in argv live under $ROOTFS here.
    argv=("${argv[@]/#\/app\//$ROOTFS/app/}")
    env -i "${env_list[@]}" "${argv[@]}" >"$log" 2>&1 &
  fi
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
}

# Waits for a started process; forgets its pid (it may be reused once reaped).
wait_started() {
  local pid=$1 status=0
  wait "$pid" || status=$?
  local kept=() p
  for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done
  PIDS=("${kept[@]}")
  return "$status"
}
export UID_=$RUN_UID GID_=$RUN_GID

# Waits (bounded) for a URL matching a pattern in a log; prints it.
url_in_log() {
  local log=$1 pattern=$2 pid=$3
  for _ in $(seq 1 300); do
    local url
    url=$(grep -oE "$pattern" "$log" | head -n1 | grep -oE 'http://[0-9.]+:[0-9]+' || true)
    if [ -n "$url" ]; then echo "$url"; return 0; fi
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; fail "the process exited before serving"; }
    sleep 0.1
  done
  cat "$log" >&2
  fail "no '$pattern' in the log within 30 s"
}

# GET url until the status is $2 (bounded); prints the body.
expect_status() {
  node - "$1" "$2" "${3:-30000}" <<'EOF'
const [url, want, within] = process.argv.slice(2);
const until = Date.now() + Number(within);
let last = 'no answer';
for (;;) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    const body = await res.text();
    if (res.status === Number(want)) { process.stdout.write(body); process.exit(0); }
    last = `${res.status} ${body.slice(0, 300)}`;
  } catch (error) { last = String(error); }
  if (Date.now() > until) { console.error(`${url}: expected ${want}, last ${last}`); process.exit(1); }
  await new Promise((r) => setTimeout(r, 200));
}
EOF
}

# Stops a started process with SIGTERM and returns its exit code (bounded; SIGKILL after 20 s).
stop_started() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; fail "pid $pid did not stop on SIGTERM within 20 s"; }
  wait_started "$pid"
}

# ---------------------------------------------------------------------------------------------
# run: hopwatch --version
start_in_image "$WORK/version.log" "$IP:0" "${ENTRYPOINT[@]}" --version
wait_started "$STARTED_PID" || { cat "$WORK/version.log" >&2; fail "hopwatch --version failed"; }
want=$(node -p 'require("./package.json").version')
[ "$(tr -d '\n' <"$WORK/version.log")" = "$want" ] || { cat "$WORK/version.log" >&2; fail "hopwatch --version is not $want"; }
say "run: hopwatch --version = $want (as uid $([ "$MODE" = chroot ] && echo "$RUN_UID" || id -u), $MODE)"

# run: ENTRYPOINT + CMD (hopwatch run)
start_in_image "$WORK/run.log" "$IP:0" "${ENTRYPOINT[@]}" "${CMD[@]}"
RUN_PID=$STARTED_PID
URL=$(url_in_log "$WORK/run.log" 'serving http://[0-9.]+:[0-9]+' "$RUN_PID")
expect_status "$URL/healthz" 200 >/dev/null || fail "/healthz"
metrics=$(expect_status "$URL/metrics" 200) || fail "/metrics"
grep -q '^hopwatch_build_info{version="' <<<"$metrics" || fail "/metrics has no hopwatch_build_info"
if [ -n "$KUBECONFIG_IN" ]; then
  expect_status "$URL/readyz" 200 >/dev/null || { cat "$WORK/run.log" >&2; fail "/readyz never became ready"; }
  say "run: $URL /healthz 200, /metrics 200, /readyz 200 (synced with the cluster)"
else
  expect_status "$URL/readyz" 503 5000 >/dev/null || fail "/readyz should be 503 without a cluster"
  say "run: $URL /healthz 200, /metrics 200, /readyz 503 (no cluster)"
fi
if [ -d dashboard ]; then
  expect_status "$URL/" 200 >/dev/null || fail "the dashboard (/) does not load"
  # The dashboard's chart library comes from node_modules: it must survive the production prune.
  expect_status "$URL/vendor/uplot/uPlot.iife.min.js" 200 >/dev/null || fail "/vendor/uplot/uPlot.iife.min.js: is uplot a production dependency?"
  say "run: dashboard / and /vendor/uplot/ served from the production tree"
fi

# The HEALTHCHECK command, as Docker runs it: inside the container, same user and environment.
start_in_image "$WORK/healthcheck.log" "${URL#http://}" "${HEALTHCHECK[@]}"
wait_started "$STARTED_PID" || { cat "$WORK/healthcheck.log" >&2; fail "HEALTHCHECK ${HEALTHCHECK[*]} failed"; }
say "run: HEALTHCHECK ${HEALTHCHECK[*]} exits 0"

stop_started "$RUN_PID" || { cat "$WORK/run.log" >&2; fail "hopwatch run did not exit 0 on SIGTERM"; }
[ -s "$ROOTFS/data/hopwatch.db" ] || fail "no /data/hopwatch.db"
# Only /data was written: the root is read-only, and /tmp (writable, as the Deployment's emptyDir) stayed empty.
if [ "$MODE" = chroot ]; then
  written=$(find "$ROOTFS/tmp" -mindepth 1 | head -n5)
  [ -z "$written" ] || fail "hopwatch run wrote to /tmp: $written"
  say "run: SIGTERM -> exit 0; the store is /data/hopwatch.db; nothing else written"
else
  say "run: SIGTERM -> exit 0; the store is /data/hopwatch.db"
fi

# ---------------------------------------------------------------------------------------------
# demo stage: its CMD with the listen address moved to loopback
if [ "$DEMO" -eq 1 ]; then
  for bin in /usr/sbin/nginx /usr/sbin/dnsmasq; do [ -x "$bin" ] || fail "$bin is missing (the demo stage installs nginx-light and dnsmasq-base)"; done
  demo_args=()
  for arg in "${DEMO_CMD[@]}"; do [ "$arg" = 0.0.0.0:8080 ] && demo_args+=("${IP%.*}.$(( ${IP##*.} + 1 )):0") || demo_args+=("$arg"); done
  start_in_image "$WORK/demo.log" "$IP:0" "${ENTRYPOINT[@]}" "${demo_args[@]}" --quiet
  DEMO_PID=$STARTED_PID
  DEMO_URL=$(url_in_log "$WORK/demo.log" 'dashboard[^:]*: http://[0-9.]+:[0-9]+' "$DEMO_PID")
  expect_status "$DEMO_URL/healthz" 200 >/dev/null || fail "demo /healthz"
  node - "$DEMO_URL" <<'EOF' || { cat "$WORK/demo.log" >&2; fail "the demo's routes got no verdicts"; }
const url = process.argv[2];
const until = Date.now() + 60_000;
for (;;) {
  const res = await fetch(`${url}/api/v1/routes`).catch(() => null);
  const body = res?.ok ? await res.json() : { data: [] };
  const judged = body.data.filter((r) => r.verdict);
  if (judged.length > 0 && judged.some((r) => r.verdict.status === 'failing')) { console.log(`image-recipe: demo: ${judged.length} routes judged, some failing as designed`); process.exit(0); }
  if (Date.now() > until) process.exit(1);
  await new Promise((r) => setTimeout(r, 500));
}
EOF
  stop_started "$DEMO_PID" || { cat "$WORK/demo.log" >&2; fail "hopwatch demo did not exit 0 on SIGTERM"; }
  say "demo: $DEMO_URL served, SIGTERM -> exit 0"
fi

say "OK"
