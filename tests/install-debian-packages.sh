#!/usr/bin/env bash
# Install the Debian packages the test suite uses (tests/debian-packages.txt), as root or
# through sudo. Used by .ci/run and the README's test command.
set -euo pipefail
packages=$(grep -v '^#' "$(dirname "$0")/debian-packages.txt" | xargs)
as_root=()
[ "$(id -u)" = 0 ] || as_root=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
# shellcheck disable=SC2086 # the list is meant to split into package names
"${as_root[@]}" apt-get install -y -qq --no-install-recommends $packages > /dev/null
