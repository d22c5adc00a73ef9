#!/usr/bin/env bash
# The Debian packages the README's commands need, installed by `make install` when missing:
#   postgresql              the service's Dagster storage (initdb, postgres)
#   chromium, chromium-driver   make screenshot, make dashboard-screenshot, the dashboard's browser test
#   openjdk-17-jre-headless     MOVIES_ENGINE=spark (PySpark runs on Java 17)
# As root it installs them with apt-get; otherwise it prints the one command to run and fails.
set -euo pipefail

missing=()
installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}
for package in postgresql chromium chromium-driver openjdk-17-jre-headless; do
    installed "$package" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

command="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]}; install them as root, then run make install again:" >&2
    echo "  sudo sh -c '$command'" >&2
    exit 1
fi
echo "installing Debian packages: ${missing[*]}"
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
