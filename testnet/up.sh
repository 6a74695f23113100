#!/usr/bin/env bash
# Starts a local cairn testnet on this machine — the README's first set-up command.
#
# Installs what a fresh Debian machine lacks (a C/C++ toolchain, libclang for RocksDB's
# bindings, Rust), builds the `cairn` binary (release profile; RocksDB is embedded, so
# nothing else is needed), then runs `cairn testnet up` with the arguments given:
#
#   testnet/up.sh                      # 4 validators in ./cairn-testnet, ports 26600+
#   testnet/up.sh -n 7 --base-port 27000
#
# Then: target/release/cairn testnet status | bench | down   (docs/TESTNET.md)
# CAIRN_PROFILE=debug builds the faster-to-compile, slower-to-run debug binary instead.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

install_system_packages
install_rust
choose_build_cache

profile="${CAIRN_PROFILE:-release}"
target="${CARGO_TARGET_DIR:-target}"
log "building cairn ($profile profile; the first build compiles RocksDB's C++, 15-25 minutes on 2 cores)"
if [ "$profile" = "release" ]; then
    cargo build --release --locked -p cairn-node
    bin="$target/release/cairn"
else
    cargo build --locked -p cairn-node
    bin="$target/debug/cairn"
fi

log "starting the testnet with $bin (use it for status, bench and down)"
exec "$bin" testnet up "$@"
