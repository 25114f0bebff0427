#!/usr/bin/env bash
# Install Debian packages for the tests that need them: apt-install.sh WHAT PACKAGE...
# Needs root (or sudo) and Debian's package archive; when neither is available it says so and exits 0,
# and the tests that need WHAT then skip with their reason. Used by install-browser.sh and install-qgis.sh.
set -euo pipefail

what="$1"
shift
if ! command -v apt-get >/dev/null 2>&1; then
  echo "apt-install: apt-get not found; the tests that need $what will be skipped" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "apt-install: not root and no sudo; the tests that need $what will be skipped" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "$@"; }; then
  echo "apt-install: could not install $what; the tests that need it will be skipped" >&2
fi
exit 0
