#!/bin/sh
# Installs the Debian packages the peer benchmarks need (bench/run_bench.py),
# only those not installed yet. Needs root (or sudo) and the Debian mirror.
#   python3           CPython asyncio peer (/usr/bin/python3)
#   python3-uvloop    uvloop peer
#   golang-go         Go peer (go1.19)
#   cargo rustc       Tokio peer toolchain (builds offline from vendored crates)
#   librust-tokio-dev Tokio 1.24 and its dependencies under /usr/share/cargo/registry
#   libboost1.81-dev  Boost.Asio peer (header-only use)
#   g++               Boost.Asio peer compiler (C++20 coroutines); gcc builds the C servers
#                     and load generators (W7, W8)
#   openssl           W8's certificate, made at run time by the command line
#   libssl-dev        W8's load generator and raw OpenSSL server (C)
set -eu

PKGS="python3 python3-uvloop golang-go cargo rustc librust-tokio-dev libboost1.81-dev g++ openssl libssl-dev"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "install_peers: all peer packages already installed"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

echo "install_peers: installing:$missing"
$SUDO apt-get update -q
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
