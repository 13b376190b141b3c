#!/usr/bin/env bash
# Installs whatever the platform needs and is missing: system packages (through
# apt-get when running as root), pnpm, node modules. Quick when nothing is missing.
# Run by `npm start` and `npm test` (with the argument `test`: also what only the
# tests need, Debian's Chromium); safe to run by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.9
say() { printf 'setup: %s\n' "$*" >&2; }

# Node.js 20 or newer.
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  say "Node.js 20 or newer is needed (found $(node --version))"
  exit 1
fi

# System packages (Debian names), each with the check that says it is there.
missing=()
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg) # M4A/AAC/WebM fallback decoder
[ -d /usr/lib/python3/dist-packages/torch ] || missing+=(python3-torch) # the trainer (Debian's /usr/bin/python3)
if [ "${1:-}" = test ]; then
  [ -x /usr/bin/chromium ] || missing+=(chromium) # the web page's end-to-end tests (playwright-core)
  command -v prometheus >/dev/null 2>&1 || missing+=(prometheus) # checks the dashboards' queries
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "missing system packages: ${missing[*]}"
    say "install them with: sudo apt-get install ${missing[*]}"
    exit 1
  fi
fi

# pnpm.
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
  say "installing pnpm $PNPM_VERSION"
  npm install -g --silent "pnpm@$PNPM_VERSION" >/dev/null
fi

# Node modules: install when absent or when the lockfile changed since the last install.
if [ ! -f node_modules/.modules.yaml ] || [ pnpm-lock.yaml -nt node_modules/.modules.yaml ]; then
  say "installing node modules"
  if [ -n "${CI:-}" ]; then pnpm install --frozen-lockfile --reporter=silent; else pnpm install --reporter=silent; fi
fi

# Prisma client, generated from the schema (offline: no engine to download).
if [ ! -f packages/db/src/generated/client.ts ] || [ packages/db/prisma/schema.prisma -nt packages/db/src/generated/client.ts ]; then
  say "generating the Prisma client"
  (cd packages/db && node_modules/.bin/prisma generate >/dev/null)
fi

# The web page, built into the gateway's public folder when its sources changed.
if [ ! -f services/gateway/public/index.html ] || [ -n "$(find web/src web/index.html web/vite.config.ts -newer services/gateway/public/index.html 2>/dev/null | head -n1)" ]; then
  say "building the web page"
  (cd web && node_modules/.bin/vite build --logLevel warn)
fi
