#!/usr/bin/env bash
# Fetch GCC's C execution torture tests (gcc/testsuite/gcc.c-torture/execute) from Debian's
# gcc-12-source package into a git-ignored cache. Run with --help for details.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
PKG=gcc-12-source
SUBDIR=gcc/testsuite/gcc.c-torture/execute
STAMP_NAME=.fetch-gcc-torture.stamp

usage() {
    cat <<EOF
Usage: toolchain/fetch-gcc-torture.sh [--dest DIR] [--deb-dir DIR] [--with-builtins] [--force]

Puts GCC 12.2's C execution torture tests ($SUBDIR) in DIR:
  DIR/*.c         every top-level test, plus what they #include from there (gcc_tmpnam.h;
                  some tests include other tests) and execute.exp, the DejaGnu driver
  DIR/ieee/       the IEEE floating-point tests (*.c, and *.x files that say how to run some)
  DIR/builtins/   only with --with-builtins (these need their lib/*.c linked in)
Each test is a complete C program that exits 0 (or calls abort() on failure); the '{ dg-... }'
comments in some of them say when to skip a test or which options it needs.

  --dest DIR       where the tests go (also: GCC_TORTURE_DIR env).
                   Default: \$REPO/.cache/gcc-torture/execute (git-ignored), here:
                   $REPO/.cache/gcc-torture/execute
  --deb-dir DIR    where the .deb is kept (default: \$REPO/.cache/debs)
  --with-builtins  also take the builtins/ subdirectory
  --force          fetch again even if DIR is already complete
  -h, --help       this text

How: 'apt-get download $PKG' (no root needed; ~83 MB), then only the needed directory is
extracted from the gcc tarball inside it (/usr/src/gcc-12/gcc-*.tar.xz), with no install.
apt-get checks the .deb against the SHA256 in Debian's signed package index; this script checks
it again against the index (also when it reuses a cached .deb) and records it in
DIR/$STAMP_NAME. If the package index is missing or stale, the script runs 'apt-get update' when
root, or else prints the commands to run.
Re-running is cheap: a DIR with a matching stamp and all its files is left alone.

Afterwards: export GCC_TORTURE_DIR=DIR (the simulator's torture tests read it).
EOF
}

log() { printf '[fetch-gcc-torture] %s\n' "$*" >&2; }
die() {
    printf '[fetch-gcc-torture] ERROR: %s\n' "$*" >&2
    exit 1
}

DEST=${GCC_TORTURE_DIR:-}
DEB_DIR=
WITH_BUILTINS=0
FORCE=0
need_arg() { [[ $# -ge 2 && -n $2 ]] || die "option $1 needs a value (see --help)"; }
while [[ $# -gt 0 ]]; do
    case $1 in
    --dest) need_arg "$@"; DEST=$2; shift 2 ;;
    --dest=*) DEST=${1#*=}; shift ;;
    --deb-dir) need_arg "$@"; DEB_DIR=$2; shift 2 ;;
    --deb-dir=*) DEB_DIR=${1#*=}; shift ;;
    --with-builtins) WITH_BUILTINS=1; shift ;;
    --force) FORCE=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
    esac
done
[[ -n $DEST ]] || DEST="$REPO/.cache/gcc-torture/execute"
[[ -n $DEB_DIR ]] || DEB_DIR="$REPO/.cache/debs"
[[ $DEST == /* ]] || DEST="$PWD/$DEST"
[[ $DEB_DIR == /* ]] || DEB_DIR="$PWD/$DEB_DIR"
DEST=${DEST%/}
[[ -n $DEST ]] || die "refusing to use / as --dest"

count_c() { find "$1" -type f -name '*.c' | wc -l; }
stamp_get() { sed -n "s/^$1=//p" "$DEST/$STAMP_NAME" 2>/dev/null | head -n1; }

done_msg() {
    local d where=""
    for d in "" ieee builtins; do
        [[ -d $DEST/$d ]] && where+=" $(find "$DEST/$d" -maxdepth 1 -type f -name '*.c' | wc -l) in ${d:-top level},"
    done
    log "$1 *.c files in $DEST:${where%,}"
    printf '%s\n' "export GCC_TORTURE_DIR=\"$DEST\""
}

# ---------------------------------------------------------------------------------------------
# 1. Already there?
if [[ $FORCE -eq 0 && -f $DEST/$STAMP_NAME ]]; then
    n=$(count_c "$DEST")
    if [[ $(stamp_get c_files) == "$n" && $(stamp_get with_builtins) == "$WITH_BUILTINS" && $n -gt 0 ]]; then
        log "already fetched ($(stamp_get deb), sha256 $(stamp_get deb_sha256))"
        done_msg "$n"
        exit 0
    fi
    log "$DEST is incomplete or was fetched with other options: fetching again"
fi
if [[ -d $DEST && ! -f $DEST/$STAMP_NAME ]] && [[ -n $(ls -A "$DEST") ]]; then
    die "$DEST exists, is not empty and was not made by this script (no $STAMP_NAME).
  Remove it or choose another --dest."
fi

# ---------------------------------------------------------------------------------------------
# 2. Which .deb does the (signed) package index offer, with which SHA256?
is_root() { [[ $(id -u) -eq 0 ]]; }
apt_opts=()
is_root && apt_opts=(-o APT::Sandbox::User=root) # avoid the '_apt cannot access' warning
command -v apt-get >/dev/null || die "apt-get not found: this script needs Debian's apt"

stale_index() {
    if is_root; then
        log "$1; running 'apt-get update' and retrying"
        apt-get update >&2
        return 0
    fi
    die "$1. The package index is probably missing or stale. As root, run:
    apt-get update
  then run this script again (or run, in $DEB_DIR:  apt-get download $PKG)."
}

uri_line() { apt-get download --print-uris "$PKG" 2>/dev/null | head -n1; }
line=$(uri_line) || true
if [[ -z $line ]]; then
    stale_index "apt does not know $PKG"
    line=$(uri_line) || true
    [[ -n $line ]] || die "apt still does not know $PKG after 'apt-get update' (not bookworm?)"
fi
# 'URL' FILENAME SIZE SHA256:HEX
read -r _ deb_name _ index_hash <<<"$line"
index_sha=${index_hash#SHA256:}
[[ $index_sha =~ ^[0-9a-f]{64}$ ]] || die "could not read the SHA256 from apt: $line"
deb="$DEB_DIR/$deb_name"

# ---------------------------------------------------------------------------------------------
# 3. Download (or reuse) the .deb and check it against the index.
mkdir -p "$DEB_DIR"
if [[ -f $deb && $(sha256sum "$deb" | awk '{print $1}') == "$index_sha" ]]; then
    log "reusing $deb (matches the package index)"
else
    rm -f "$deb"
    t0=$SECONDS
    log "apt-get download $PKG  ->  $DEB_DIR"
    if ! (cd "$DEB_DIR" && apt-get download "${apt_opts[@]}" "$PKG" >&2); then
        stale_index "apt-get download $PKG failed"
        (cd "$DEB_DIR" && apt-get download "${apt_opts[@]}" "$PKG" >&2)
    fi
    log "downloaded in $((SECONDS - t0)) s"
fi
[[ -f $deb ]] || die "apt-get download did not produce $deb"
# apt-get download already refuses a file whose hash differs from the signed index (InRelease
# -> Packages -> SHA256). This re-check guards the cached copy and makes the hash visible.
deb_sha=$(sha256sum "$deb" | awk '{print $1}')
[[ $deb_sha == "$index_sha" ]] || die "sha256 of $deb is $deb_sha, but the package index says $index_sha"
printf '%s  %s\n' "$deb_sha" "$deb_name" >"$deb.sha256"
version=$(dpkg-deb -f "$deb" Version)
log "$deb_name  version $version  sha256 $deb_sha (= Debian's signed index)"

# ---------------------------------------------------------------------------------------------
# 4. Extract only the torture directory, streaming: .deb -> gcc tarball -> the wanted files.
inner=$(dpkg-deb -c "$deb" | awk '{print $NF}' | grep -E '^\./usr/src/gcc-12/gcc-[0-9][^/]*\.tar\.xz$' || true)
[[ $(printf '%s\n' "$inner" | grep -c .) -eq 1 ]] ||
    die "expected one gcc tarball under /usr/src/gcc-12 in $deb_name, found: ${inner:-none}"
log "extracting $SUBDIR from $(basename "$inner") ..."

parent=$(dirname "$DEST")
mkdir -p "$parent"
staging=$(mktemp -d "$parent/.gcc-torture-staging.XXXXXX")
trap 'rm -rf "$staging"' EXIT

# '*' must not match '/': top-level patterns take only files directly in execute/.
patterns=(--wildcards --no-wildcards-match-slash
    "*/$SUBDIR/*.c" "*/$SUBDIR/*.h" "*/$SUBDIR/execute.exp" "*/$SUBDIR/ieee/*")
# (builtins/* also matches the builtins/lib directory, which tar then extracts whole.)
[[ $WITH_BUILTINS -eq 0 ]] || patterns+=("*/$SUBDIR/builtins/*")
t0=$SECONDS
if ! dpkg-deb --fsys-tarfile "$deb" | tar -xOf - "$inner" |
    tar -xJf - -C "$staging" --no-same-owner "${patterns[@]}"; then
    die "extracting from $deb_name failed (see tar's message above)"
fi
src_dir=$(find "$staging" -mindepth 1 -maxdepth 1 -type d)
src_dir="$src_dir/$SUBDIR"
[[ -d $src_dir ]] || die "nothing extracted for $SUBDIR"
log "extracted in $((SECONDS - t0)) s"

# Every '#include "X"' in a test must resolve inside its own directory.
for d in "$src_dir" "$src_dir/ieee"; do
    [[ -d $d ]] || die "nothing extracted for $d"
    missing=$(cd "$d" && { grep -ho '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]*"' -- *.c || true; } |
        sed 's/.*"\(.*\)"/\1/' | sort -u | while read -r f; do [[ -f $f ]] || echo "$f"; done)
    [[ -z $missing ]] || die "tests in $d #include files that were not extracted: $missing"
done

n=$(count_c "$src_dir")
[[ $n -gt 0 ]] || die "no *.c files extracted"
cat >"$src_dir/$STAMP_NAME" <<EOF
package=$PKG
version=$version
deb=$deb_name
deb_sha256=$deb_sha
tarball=$(basename "$inner")
subdir=$SUBDIR
with_builtins=$WITH_BUILTINS
c_files=$n
EOF

# Swap the new directory in.
rm -rf "$DEST"
mv "$src_dir" "$DEST"
done_msg "$n"
