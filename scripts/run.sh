#!/usr/bin/env bash
# The project's entry point behind `npm run demo`, `npm test` and `npm run build`.
# Runs under Node >= 22: when the Node on PATH is older (or missing), Node 24 is
# provisioned from the npm registry package node-linux-<arch>@24 into the
# git-ignored .cache/node, the way CI setups pin a Node. npm packages are
# installed (npm ci) whenever package-lock.json changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
NODE_MIN_MAJOR=22
NODE_PROVISIONED_MAJOR=24

say() { printf '\033[1m%s\033[0m\n' "$*"; }

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node() {
  if command -v node >/dev/null 2>&1 && [ "$(node_major)" -ge "$NODE_MIN_MAJOR" ]; then return; fi
  local arch
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "run.sh: no Node $NODE_PROVISIONED_MAJOR package for $(uname -m); install Node >= $NODE_MIN_MAJOR yourself" >&2; exit 1 ;;
  esac
  local cache="$ROOT/.cache/node" pkg="node-linux-$arch"
  local bin="$cache/node_modules/$pkg/bin"
  if [ ! -x "$bin/node" ]; then
    command -v npm >/dev/null 2>&1 || { echo "run.sh: npm is needed to provision Node $NODE_PROVISIONED_MAJOR" >&2; exit 1; }
    say "node: $(node --version 2>/dev/null || echo 'no node') on PATH is older than $NODE_MIN_MAJOR; provisioning Node $NODE_PROVISIONED_MAJOR ($pkg@$NODE_PROVISIONED_MAJOR) into .cache/node"
    mkdir -p "$cache"
    npm install --prefix "$cache" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "$pkg@$NODE_PROVISIONED_MAJOR" >/dev/null
  fi
  keep_npm_globalconfig
  export PATH="$bin:$PATH"
  say "node: using $(node --version) from .cache/node"
}

# npm reads its global settings (a registry mirror, the CA file of a TLS-inspecting proxy) from
# <prefix of the Node that runs it>/etc/npmrc: under the provisioned Node that file does not exist.
# Keep the machine's own, found while the machine's Node still runs npm.
keep_npm_globalconfig() {
  [ -n "${NPM_CONFIG_GLOBALCONFIG:-}" ] && return
  local globalconfig
  globalconfig="$(npm config get globalconfig 2>/dev/null || true)"
  if [ -n "$globalconfig" ] && [ -f "$globalconfig" ]; then export NPM_CONFIG_GLOBALCONFIG="$globalconfig"; fi
}

ensure_packages() {
  local stamp="node_modules/.install-stamp"
  if [ -f "$stamp" ] && [ "$stamp" -nt package-lock.json ] && [ "$stamp" -nt package.json ]; then return; fi
  say "npm: installing packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
}

build() {
  say "build: compiling apps and libs into dist/ (nest build)"
  # tsconfig.build.json covers every app and lib, so one build emits both apps;
  # the Nest CLI rewrites the @app/* aliases into relative ESM imports.
  npx nest build
}

cmd="${1:-}"
shift || true
case "$cmd" in
  test)
    ensure_node
    ensure_packages
    say "lint"; npm run --silent lint
    say "typecheck"; npm run --silent typecheck
    say "unit tests"; npm run --silent test:unit
    say "e2e tests (real Kafka broker, real HTTP on 127.0.0.1)"; npm run --silent test:e2e
    ;;
  demo)
    ensure_node
    ensure_packages
    build
    node scripts/demo.mjs "$@"
    ;;
  chaos)
    # The long fault-injection suite (test/chaos): built apps in processes of their own, killed
    # for real; one file at a time, each run prints its accounting. Extra arguments go to Jest.
    ensure_node
    ensure_packages
    build
    say "chaos tests (kill -9, broker failures; real Kafka, real HTTP on 127.0.0.1)"
    node --experimental-vm-modules --disable-warning=ExperimentalWarning --disable-warning=TimeoutNegativeWarning \
      node_modules/jest/bin/jest.js --selectProjects chaos --runInBand --forceExit "$@"
    ;;
  build)
    ensure_node
    ensure_packages
    build
    ;;
  node-bin)
    # Prints the directory of the Node this project runs under (provisioning it if needed).
    ensure_node >&2
    dirname "$(command -v node)"
    ;;
  *)
    echo "usage: scripts/run.sh test|chaos|demo|build|node-bin" >&2
    exit 2
    ;;
esac
