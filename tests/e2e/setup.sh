#!/usr/bin/env bash
# Make the browser tests runnable on a fresh machine: Debian's Chromium when it is missing.
# Playwright (a dev extra) drives this system browser; it never downloads a browser of its own.
# Idempotent: a no-op once /usr/bin/chromium exists. Fails loudly when it cannot install, so CI
# does not quietly skip the browser tests.
set -euo pipefail
CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "tests/e2e/setup.sh: please install Chromium (Debian package 'chromium') at $CHROMIUM" >&2
  exit 1
fi
echo "installing chromium" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
"$CHROMIUM" --version >&2
