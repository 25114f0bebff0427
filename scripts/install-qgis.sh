#!/usr/bin/env bash
# Install Debian's QGIS Python bindings and data providers, so that tests/report/test_qgis.py can
# open each run's plan.qgs in QGIS itself (headless). A no-op when they are already installed;
# otherwise see apt-install.sh (without root or sudo and Debian's archive, that test skips with its
# reason; the project's structure is still validated).
set -euo pipefail

if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1; then
  exit 0
fi
exec bash "$(dirname "$0")/apt-install.sh" QGIS python3-qgis qgis-providers
