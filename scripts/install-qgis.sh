#!/usr/bin/env bash
# Install Debian's QGIS Python bindings and data providers, so that tests/report/test_qgis.py can
# open each run's plan.qgs in QGIS itself (headless). A no-op when they are already installed. Needs
# root (or sudo) and Debian's package archive; when neither is available it says so and exits 0, and
# that test then skips with its reason (the project's structure is still validated).
set -euo pipefail

if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-qgis: apt-get not found; the QGIS test will be skipped" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "install-qgis: not root and no sudo; the QGIS test will be skipped" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends python3-qgis qgis-providers; }; then
  echo "install-qgis: could not install QGIS; the QGIS test will be skipped" >&2
fi
exit 0
