#!/usr/bin/env bash
# Install Debian's Chromium and ChromeDriver for the browser tests (tests/browser/) and
# `smrplan report --pdf`. A no-op when `chromium` is already on PATH; otherwise see apt-install.sh
# (without root or sudo and Debian's archive, the browser tests skip with that reason).
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
exec bash "$(dirname "$0")/apt-install.sh" Chromium chromium chromium-driver fonts-dejavu-core
