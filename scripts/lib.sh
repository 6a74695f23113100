# Shared by scripts/test and testnet/up.sh: install what a fresh Debian machine lacks
# and choose a build cache. Source it; it defines functions only.

log() { printf '\n== %s (%s)\n' "$*" "$(date +%H:%M:%S)"; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

install_system_packages() {
    local missing=()
    # clang/libclang: bindgen in librocksdb-sys needs libclang to generate bindings.
    command -v cc >/dev/null 2>&1 || missing+=(build-essential)
    command -v curl >/dev/null 2>&1 || missing+=(curl ca-certificates)
    dpkg -s libclang-dev >/dev/null 2>&1 || missing+=(libclang-dev)
    command -v clang >/dev/null 2>&1 || missing+=(clang)
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
    python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
    # The fault runner's hosts: network namespaces (iproute2) and partitions (nftables).
    command -v ip >/dev/null 2>&1 || missing+=(iproute2)
    command -v nft >/dev/null 2>&1 || missing+=(nftables)
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing Debian packages: ${missing[*]}"
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

# Rust itself: rustup's installer when cargo is missing (the workspace needs Rust 1.88+,
# newer than some distributions ship).
install_rust() {
    if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
        export PATH="$HOME/.cargo/bin:$PATH"
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        log "installing Rust with rustup"
        curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
        export PATH="$HOME/.cargo/bin:$PATH"
    fi
}

install_rust_components() {
    cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
    cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
}

install_python_modules() {
    python3 -c 'import nacl, blake3' >/dev/null 2>&1 && return
    log "installing PyNaCl and blake3 for the scripts/*-check.py document checks"
    local pip=(python3 -m pip install -q --disable-pip-version-check pynacl blake3)
    # Debian's own python3 refuses user installs (PEP 668) unless told otherwise.
    PIP_ROOT_USER_ACTION=ignore "${pip[@]}" 2>/dev/null ||
        PIP_ROOT_USER_ACTION=ignore "${pip[@]}" --break-system-packages
    python3 -c 'import nacl, blake3' || {
        echo "error: cannot import PyNaCl and blake3 after installing them" >&2
        return 1
    }
}

choose_build_cache() {
    if [ -n "${CAIRN_NO_CACHE:-}" ]; then
        echo "build cache: disabled by CAIRN_NO_CACHE"
        return
    fi
    local shared="${CAIRN_SHARED_TARGET:-/var/cache/cairn/target}"
    if [ -z "${CARGO_TARGET_DIR:-}" ] && [ -d "$shared" ] && [ -w "$shared" ]; then
        export CARGO_TARGET_DIR="$shared"
        echo "build cache: shared target directory $shared"
    elif [ -z "${RUSTC_WRAPPER:-}" ] && command -v sccache >/dev/null 2>&1; then
        export RUSTC_WRAPPER=sccache
        echo "build cache: sccache"
    else
        echo "build cache: none (fresh build)"
    fi
}

