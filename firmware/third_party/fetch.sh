#!/usr/bin/env bash
# Fetches the third-party C code of the firmware from Debian's source packages, never from the
# repository: lwIP 2.1.3 (`lwip`) and mbedTLS 2.28.3 (`mbedtls`) of Debian 12 (bookworm).
#
#   firmware/third_party/fetch.sh [--dest DIR] [--force]
#
# How: `apt-get source --download-only` with a private apt configuration (its own deb-src list,
# package lists and cache under DIR/apt): nothing on the system changes and root is not needed.
# apt checks each .dsc against Debian's signed Sources index; this script then checks every file
# the .dsc names against the .dsc's SHA-256 sums, and unpacks the upstream tarballs into
# DIR/lwip and DIR/mbedtls. A stamp records what was unpacked; re-running is cheap.
#
# LWIP_DIR / MBEDTLS_DIR, when set, point at other copies: they are checked (a file that every
# copy has) and used instead of fetching.
#
# Prints, at the end, the lines to export: LWIP_DIR=... and MBEDTLS_DIR=...
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
DEST=$REPO/.cache/third_party
FORCE=0

# package  version          directory  a file every copy has
PACKAGES=(
    "lwip     2.1.3+dfsg1-2  lwip     src/core/tcp.c"
    "mbedtls  2.28.3-1       mbedtls  library/ssl_tls.c"
)

log() { printf '[fetch-third-party] %s\n' "$*" >&2; }
die() {
    printf '[fetch-third-party] ERROR: %s\n' "$*" >&2
    exit 1
}

while [[ $# -gt 0 ]]; do
    case $1 in
    --dest) [[ $# -ge 2 ]] || die "--dest needs a directory"; DEST=$2; shift 2 ;;
    --dest=*) DEST=${1#*=}; shift ;;
    --force) FORCE=1; shift ;;
    -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
    esac
done
mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)

for tool in apt-get sha256sum tar; do
    command -v "$tool" >/dev/null || die "$tool is needed (this script expects a Debian-like system)"
done

APT_DIR=$DEST/apt
apt_opts() {
    printf '%s\n' \
        -o "Dir::Etc::SourceList=$APT_DIR/empty.list" \
        -o "Dir::Etc::SourceParts=$APT_DIR/sources.list.d" \
        -o "Dir::State::Lists=$APT_DIR/lists" \
        -o "Dir::Cache=$APT_DIR/cache" \
        -o "Dir::State::Status=$APT_DIR/status" \
        -o "Debug::NoLocking=1" \
        -o "APT::Sandbox::User=$(id -un)"
}

setup_apt() {
    mkdir -p "$APT_DIR/sources.list.d" "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
    : >"$APT_DIR/empty.list"
    : >"$APT_DIR/status"
    cat >"$APT_DIR/sources.list.d/debian-src.sources" <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    [[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] ||
        die "Debian's archive keyring is missing (/usr/share/keyrings/debian-archive-keyring.gpg): install debian-archive-keyring"
    local opts
    mapfile -t opts < <(apt_opts)
    if ! compgen -G "$APT_DIR/lists/*Sources*" >/dev/null; then
        log "apt-get update (private lists in $APT_DIR)"
        apt-get "${opts[@]}" -q update >&2 || die "apt-get update failed: is deb.debian.org reachable?"
    fi
}

# Checks every file of a .dsc against its Checksums-Sha256 block.
verify_dsc() {
    local dsc=$1 dir
    dir=$(dirname "$dsc")
    local sums
    sums=$(awk '/^Checksums-Sha256:/{on=1; next} /^[^ ]/{on=0} on && NF==3 {print $1"  "$3}' "$dsc")
    [[ -n $sums ]] || die "$dsc has no Checksums-Sha256"
    (cd "$dir" && sha256sum --quiet -c - <<<"$sums") || die "checksum mismatch for the files of $dsc"
}

fetch_one() {
    local pkg=$1 version=$2 name=$3 probe=$4
    local out=$DEST/$name stamp=$DEST/$name/.fetched
    if [[ $FORCE -eq 0 && -f $stamp && $(cat "$stamp") == "$pkg $version" && -f $out/$probe ]]; then
        log "$pkg $version already in $out"
        return
    fi
    setup_apt
    local opts
    mapfile -t opts < <(apt_opts)
    local dl=$DEST/downloads
    mkdir -p "$dl"
    log "apt-get source --download-only $pkg=$version"
    (cd "$dl" && apt-get "${opts[@]}" -q source --download-only "$pkg=$version" >&2) ||
        die "could not download $pkg $version from Debian bookworm (apt-get source failed)"
    local dsc=$dl/${pkg}_${version#*:}.dsc
    [[ -f $dsc ]] || die "$dsc missing after the download"
    verify_dsc "$dsc"
    local orig
    orig=$(find "$dl" -maxdepth 1 -name "${pkg}_${version%-*}.orig.tar.*" | head -n1)
    [[ -n $orig ]] || die "no upstream tarball for $pkg $version in $dl"
    rm -rf "$out"
    mkdir -p "$out"
    tar -xf "$orig" -C "$out" --strip-components=1
    [[ -f $out/$probe ]] || die "$orig did not unpack into the expected layout ($probe missing)"
    echo "$pkg $version" >"$stamp"
    log "$pkg $version unpacked into $out ($(basename "$orig"), checked against $(basename "$dsc"))"
}

use_or_fetch() {
    local var=$1 pkg=$2 version=$3 name=$4 probe=$5
    local given=${!var:-}
    if [[ -n $given ]]; then
        [[ -f $given/$probe ]] || die "$var=$given does not look like $pkg ($probe missing)"
        log "$pkg: using $var=$given"
        printf '%s=%s\n' "$var" "$given"
        return
    fi
    fetch_one "$pkg" "$version" "$name" "$probe"
    printf '%s=%s\n' "$var" "$DEST/$name"
}

for entry in "${PACKAGES[@]}"; do
    read -r pkg version name probe <<<"$entry"
    var=$(echo "$name" | tr '[:lower:]' '[:upper:]')_DIR
    use_or_fetch "$var" "$pkg" "$version" "$name" "$probe"
done
