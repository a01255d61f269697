#!/usr/bin/env bash
# Installs what building and testing hvterm needs, from Debian 12 packages (root, or sudo).
# Usage: tools/deps.sh [build|test]
set -euo pipefail
what=${1:-build}
packages=(build-essential cmake ninja-build pkg-config libuv1-dev libcli11-dev doctest-dev nlohmann-json3-dev scdoc
  libvirt-dev libpugixml-dev libtomlplusplus-dev libxxhash-dev libvterm-dev)
if [ "$what" = test ]; then
  # pytest + pexpect drive the end-to-end tests; zsh and fish load the completion scripts; clang and
  # its runtime build the libFuzzer targets; asciinema plays back what `hvterm --record` wrote.
  packages+=(python3 python3-pytest python3-pexpect zsh fish clang libclang-rt-14-dev socat asciinema)
  # pyte is the terminal the screen tests read what a user would see with; vim-tiny and vttest
  # programs they detach.
  packages+=(python3-pyte vim-tiny vttest)
  # groff and man read the rendered man pages as a person would.
  packages+=(groff-base man-db)
  # Ansible drives a fleet of agents through the connection plugin in contrib/ansible; sudo is its
  # become method in that play.
  packages+=(ansible-core sudo)
  # The Debian packages are built by CPack (dpkg-shlibdeps from dpkg-dev) and checked by lintian.
  packages+=(dpkg-dev lintian)
  # ssh, scp and rsync reach a real sshd through `hvterm nc` as their ProxyCommand.
  packages+=(openssh-server openssh-client rsync)
  # tools/format.sh --check: the C++ sources follow .clang-format (tuned for clang-format 14).
  packages+=(clang-format)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "tools/deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
