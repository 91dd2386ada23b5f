#!/usr/bin/env bash
# Installs the Vulkan loader (libvulkan1) and Mesa's Vulkan drivers (lavapipe) from Debian
# bookworm-backports, for the webgpu tests on a machine without a GPU. Dawn (npm `webgpu`) refuses
# bookworm's own Mesa 22.3; backports' Mesa 25 works. Idempotent: does nothing when a backports
# Mesa is already installed. The backports suite is added from the mirror the machine already uses.
set -euo pipefail

have_mesa() {
  local v
  v=$(dpkg-query -W -f='${Status} ${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  [[ $v == "install ok installed "* ]] || return 1
  v=${v##* }
  dpkg --compare-versions "$v" ge 24 && dpkg-query -W -f='${Status}' libvulkan1 2>/dev/null | grep -q "install ok installed"
}

if have_mesa; then
  echo "ci-vulkan: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) already installed"
  exit 0
fi

. /etc/os-release
if [[ ${ID:-} != debian || ${VERSION_CODENAME:-} != bookworm ]]; then
  echo "ci-vulkan: not Debian bookworm (${PRETTY_NAME:-unknown}); install libvulkan1 and a Mesa >= 24 Vulkan driver yourself" >&2
  exit 1
fi
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO=sudo

# The mirror of the main suite, from deb822 .sources files or a one-line sources.list.
mirror=$(awk '
  /^URIs:/ { uri = $2 }
  /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") found = uri }
  /^$/ { uri = "" }
  END { if (found) print found }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
if [[ -z $mirror && -f /etc/apt/sources.list ]]; then
  mirror=$(awk '$1 == "deb" && $0 ~ / bookworm / { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) { print $i; exit } }' /etc/apt/sources.list)
fi
mirror=${mirror:-http://deb.debian.org/debian}

list=/etc/apt/sources.list.d/bookworm-backports.sources
if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$mirror" | $SUDO tee "$list" >/dev/null
  echo "ci-vulkan: added bookworm-backports from $mirror"
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports libvulkan1 mesa-vulkan-drivers >/dev/null
echo "ci-vulkan: installed mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
