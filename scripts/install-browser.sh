#!/usr/bin/env bash
# Install Debian's Chromium and ChromeDriver for the browser tests (tests/browser/) and
# `smrplan report --pdf`. A no-op when `chromium` is already on PATH. Needs root (or sudo) and
# Debian's package archive; when neither is available it says so and exits 0, and the browser
# tests then skip with that reason.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: apt-get not found; browser tests will be skipped" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "install-browser: not root and no sudo; browser tests will be skipped" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core; }; then
  echo "install-browser: could not install chromium; browser tests will be skipped" >&2
fi
exit 0
