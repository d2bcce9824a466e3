#!/usr/bin/env bash
# Install an ft32-elf cross toolchain (gcc C, binutils, newlib/libgloss, gdb + ft32-elf-run).
# Run with --help for the full story.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
SHARED_TC_DIR="$REPO/../shared/toolchain"

# Debian (bookworm) source packages and the upstream versions the recipe was written for.
# The Debian revision may move with point releases; the upstream version must match.
SRC_PKGS=(binutils-source gcc-12-source newlib-source gdb-source)
declare -A SRC_UPSTREAM=(
    [binutils-source]=2.40
    [gcc-12-source]=12.2.0
    [newlib-source]=3.3.0
    [gdb-source]=13.1
)
# Debian packages needed to build from source (package name -> a file/command proving it is there).
BUILD_DEPS=(build-essential texinfo libgmp-dev libmpfr-dev libmpc-dev flex bison patch xz-utils)
SOURCE_STEPS=(download unpack patch binutils gcc newlib gdb)
TARGET=ft32-elf

usage() {
    local shared_note
    if compgen -G "$SHARED_TC_DIR/*.tar.xz" >/dev/null; then
        shared_note="A prebuilt tarball IS present beside this repo:
                       $(cd "$SHARED_TC_DIR" && pwd)/$(cd "$SHARED_TC_DIR" && compgen -G '*.tar.xz' | head -n1)
                     so '$0 --tarball auto' installs it in seconds."
    else
        shared_note="No prebuilt tarball was found in $SHARED_TC_DIR (so --tarball auto would fail)."
    fi
    cat <<EOF
Usage: toolchain/install.sh [--prefix DIR] [--tarball FILE|auto] [--force] [options]

Installs an ft32-elf cross toolchain for the FT32 core of the FTDI/Bridgetek FT900:
  ft32-elf-gcc (C only, 12.2.0)   binutils 2.40 (as, ld, objdump, readelf, ...)
  newlib 3.3.0 + libgloss         ft32-elf-gdb 13.1 and ft32-elf-run, the reference simulator
All programs land in PREFIX/bin. Nothing outside PREFIX (and the work dir) is written, except
that, as root and only in source mode, missing Debian build dependencies are apt-get installed.

Where it goes
  --prefix DIR       install here (also: FT32_PREFIX env). Default: \$HOME/.local/ft32-elf,
                     here: ${FT32_PREFIX:-${HOME:-?}/.local/ft32-elf}
                     No system directory is used unless you name one.

Two ways to get it
  1. From a prebuilt tarball (seconds):
  --tarball FILE     (also: FT32_TOOLCHAIN_TARBALL env). FILE must have one top folder
                     'ft32-elf/'; it is checked against FILE.sha256 (same folder, sha256sum
                     format) and the install stops if that file is missing or does not match.
                     The top folder is stripped, so PREFIX/bin/ft32-elf-gcc exists afterwards.
  --tarball auto     use the one *.tar.xz in \$REPO/../shared/toolchain/.
                     $shared_note

  2. From Debian's source packages (default when no tarball is given; ~20+ min on 2 cores):
     apt-get download binutils-source gcc-12-source newlib-source gdb-source (no root needed:
     the .debs are checked against Debian's signed package index and unpacked with dpkg-deb -x
     into the work dir, not installed), then:
       binutils: configure --target=ft32-elf --disable-nls --disable-werror --disable-gdb --disable-sim
       gcc:      Debian's tarball lacks the GFDL manuals, so debian/patches/gcc-gfdl-build.diff is
                 applied (patch -p2 in the gcc tree); C only, --without-headers --with-newlib;
                 make all-gcc install-gcc all-target-libgcc install-target-libgcc
       newlib:   (unpacks to newlib-salsa/) configure --target=ft32-elf --disable-nls
       gdb:      configure --target=ft32-elf --disable-nls --disable-werror --with-python=no
                 (gives ft32-elf-gdb and ft32-elf-run)
     Build dependencies: ${BUILD_DEPS[*]}
     If they are missing: as root they are installed with apt-get; otherwise the exact
     apt-get command is printed and the script exits non-zero.
  --deb-dir DIR      where the .debs are kept (default: \$REPO/.cache/debs, shared with
                     fetch-gcc-torture.sh; cached ones are reused if they match the index)
  --work-dir DIR     sources and build trees (default: \$REPO/.cache/ft32-toolchain-build,
                     git-ignored). Re-running resumes: unpacked sources, the patch and configured
                     build trees are reused, and make only redoes what is missing.
  --jobs N           parallel make jobs (default: nproc = $(nproc 2>/dev/null || echo 1))
  --stop-after STEP  stop after one of: ${SOURCE_STEPS[*]}
                     (e.g. --stop-after patch fetches, unpacks and patches, but builds nothing)
  --dry-run          print what would be done, change nothing

Other
  --force            reinstall even if PREFIX already holds a working toolchain
                     (without it, a PREFIX whose tools pass the smoke test is left alone)
  --skip-smoke-test  do not compile and run the hello-world at the end
  -h, --help         this text

After installing, a smoke test compiles a hello-world with 'ft32-elf-gcc -msim' and runs it with
'ft32-elf-run --load-vma' (the -msim link script gives .data a load address in program memory
that crt0 never copies, so the simulator must load segments at their VMA), checking its output
and exit code. Then add the tools to your PATH, e.g. in ~/.bashrc:
    export PATH="PREFIX/bin:\$PATH"
    export FT32_TOOLCHAIN="PREFIX"      # the simulator's tests look here

Examples
  toolchain/install.sh --tarball auto                         # fast, from ../shared
  toolchain/install.sh --prefix /opt/ft32-elf                 # build from source
  toolchain/install.sh --stop-after patch --work-dir /tmp/w   # just fetch+unpack+patch sources
EOF
}

log() { printf '[install.sh] %s\n' "$*" >&2; }
die() {
    printf '[install.sh] ERROR: %s\n' "$*" >&2
    exit 1
}

# ---------------------------------------------------------------------------------------------
# Arguments
PREFIX=${FT32_PREFIX:-}
TARBALL=${FT32_TOOLCHAIN_TARBALL:-}
WORK_DIR=
DEB_DIR=
JOBS=
STOP_AFTER=
FORCE=0
DRY_RUN=0
SMOKE=1

need_arg() { [[ $# -ge 2 && -n $2 ]] || die "option $1 needs a value (see --help)"; }
while [[ $# -gt 0 ]]; do
    case $1 in
    --prefix) need_arg "$@"; PREFIX=$2; shift 2 ;;
    --prefix=*) PREFIX=${1#*=}; shift ;;
    --tarball) need_arg "$@"; TARBALL=$2; shift 2 ;;
    --tarball=*) TARBALL=${1#*=}; shift ;;
    --work-dir) need_arg "$@"; WORK_DIR=$2; shift 2 ;;
    --work-dir=*) WORK_DIR=${1#*=}; shift ;;
    --deb-dir) need_arg "$@"; DEB_DIR=$2; shift 2 ;;
    --deb-dir=*) DEB_DIR=${1#*=}; shift ;;
    --jobs | -j) need_arg "$@"; JOBS=$2; shift 2 ;;
    --jobs=*) JOBS=${1#*=}; shift ;;
    --stop-after) need_arg "$@"; STOP_AFTER=$2; shift 2 ;;
    --stop-after=*) STOP_AFTER=${1#*=}; shift ;;
    --stop-after-unpack) STOP_AFTER=unpack; shift ;;
    --force) FORCE=1; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    --skip-smoke-test) SMOKE=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
    esac
done

if [[ -z $PREFIX ]]; then
    [[ -n ${HOME:-} ]] || die "HOME is not set; pass --prefix DIR"
    PREFIX="$HOME/.local/ft32-elf"
fi
[[ $PREFIX == /* ]] || PREFIX="$PWD/$PREFIX" # configure needs an absolute path
PREFIX=${PREFIX%/}
[[ -n $PREFIX ]] || die "refusing to install into /"
[[ -n $JOBS ]] || JOBS=$(nproc 2>/dev/null || echo 1)
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die "--jobs wants a positive number, got '$JOBS'"
[[ -n $WORK_DIR ]] || WORK_DIR="$REPO/.cache/ft32-toolchain-build"
[[ $WORK_DIR == /* ]] || WORK_DIR="$PWD/$WORK_DIR"
[[ -n $DEB_DIR ]] || DEB_DIR="$REPO/.cache/debs"
[[ $DEB_DIR == /* ]] || DEB_DIR="$PWD/$DEB_DIR"
if [[ -n $STOP_AFTER ]]; then
    [[ " ${SOURCE_STEPS[*]} " == *" $STOP_AFTER "* ]] ||
        die "--stop-after wants one of: ${SOURCE_STEPS[*]} (got '$STOP_AFTER')"
    [[ -z $TARBALL ]] || die "--stop-after only applies to the source build, not --tarball"
fi

# ---------------------------------------------------------------------------------------------
# Smoke test: compile hello-world for the reference simulator, run it, check output and exit code.
smoke_test() {
    local quiet=${1:-}
    local gcc="$PREFIX/bin/$TARGET-gcc" run="$PREFIX/bin/$TARGET-run"
    [[ -x $gcc && -x $run ]] || return 1
    local tmp out rc=0
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/ft32-smoke.XXXXXX")
    cat >"$tmp/hello.c" <<'EOF'
#include <stdio.h>
int main(void)
{
    printf("hello, ft32: %d\n", 6 * 7);
    return 3;
}
EOF
    if ! "$gcc" -msim -O2 -o "$tmp/hello.elf" "$tmp/hello.c" 2>"$tmp/cc.err"; then
        [[ -n $quiet ]] || { log "smoke test: $gcc -msim failed:"; cat "$tmp/cc.err" >&2; }
        rm -rf "$tmp"
        return 1
    fi
    out=$(timeout 60 "$run" --load-vma "$tmp/hello.elf" 2>"$tmp/run.err") || rc=$?
    if [[ $out != "hello, ft32: 42" || $rc -ne 3 ]]; then
        if [[ -z $quiet ]]; then
            log "smoke test: $run --load-vma hello.elf printed '$out' and exited $rc;"
            log "            expected 'hello, ft32: 42' and exit code 3. stderr:"
            cat "$tmp/run.err" >&2
        fi
        rm -rf "$tmp"
        return 1
    fi
    [[ -n $quiet ]] || log "smoke test passed: hello.elf printed '$out' and exited $rc under $TARGET-run --load-vma"
    rm -rf "$tmp"
}

finish() {
    local what=${1:-installed in}
    if [[ $what == "already installed in" ]]; then
        : # the smoke test just passed
    elif [[ $SMOKE -eq 1 ]]; then
        smoke_test || die "the installed toolchain in $PREFIX failed the smoke test (see above)"
    else
        log "smoke test skipped (--skip-smoke-test)"
    fi
    cat <<EOF

ft32-elf toolchain $what: $PREFIX
  tools:  $PREFIX/bin/$TARGET-{gcc,as,ld,objdump,readelf,gdb,run,...}
  gcc:    $("$PREFIX/bin/$TARGET-gcc" --version | head -n1)
  run:    $("$PREFIX/bin/$TARGET-run" --version 2>/dev/null | head -n1)
Add to your shell (e.g. ~/.bashrc):
  export PATH="$PREFIX/bin:\$PATH"
  export FT32_TOOLCHAIN="$PREFIX"
EOF
}

# ---------------------------------------------------------------------------------------------
# Mode 1: prebuilt tarball
resolve_auto_tarball() {
    [[ -d $SHARED_TC_DIR ]] || die "--tarball auto: no directory $SHARED_TC_DIR
  (expected the prebuilt toolchain in ../shared/toolchain beside the repo; build from source
   instead by leaving out --tarball)"
    local dir candidates=() arch
    dir=$(cd "$SHARED_TC_DIR" && pwd)
    shopt -s nullglob
    candidates=("$dir"/*.tar.xz)
    shopt -u nullglob
    if [[ ${#candidates[@]} -gt 1 ]]; then
        arch=$(uname -m)
        local c matching=()
        for c in "${candidates[@]}"; do [[ $(basename "$c") == *"$arch"* ]] && matching+=("$c"); done
        candidates=("${matching[@]}")
    fi
    case ${#candidates[@]} in
    0) die "--tarball auto: no (suitable) *.tar.xz in $dir" ;;
    1) TARBALL=${candidates[0]} ;;
    *) die "--tarball auto: several tarballs in $dir, name one: ${candidates[*]}" ;;
    esac
    log "--tarball auto: using $TARBALL"
}

install_from_tarball() {
    [[ $TARBALL == auto ]] && resolve_auto_tarball
    [[ -f $TARBALL ]] || die "tarball not found: $TARBALL"
    local sumfile="$TARBALL.sha256" want got
    [[ -f $sumfile ]] || die "checksum file missing: $sumfile
  Refusing to install an unverified tarball. It must hold one line '<sha256>  <file name>'."
    want=$(awk 'NR==1 {print $1}' "$sumfile")
    want=${want,,}
    [[ $want =~ ^[0-9a-f]{64}$ ]] || die "no sha256 found in $sumfile (got '$want')"
    got=$(sha256sum "$TARBALL" | awk '{print $1}')
    if [[ $got != "$want" ]]; then
        die "sha256 MISMATCH for $TARBALL
  expected (from $sumfile): $want
  actual:                   $got
  The tarball is corrupt or not the one the checksum was made for. Not installing."
    fi
    log "sha256 OK: $got  $(basename "$TARBALL")"

    # Every member must sit under ft32-elf/ and none may climb out with '..'.
    local bad
    bad=$(tar -tJf "$TARBALL" | awk '!/^ft32-elf\// || /(^|\/)\.\.(\/|$)/' | head -n5)
    [[ -z $bad ]] || die "tarball layout unexpected (want one top folder ft32-elf/), e.g.: $bad"

    if [[ $DRY_RUN -eq 1 ]]; then
        log "dry run: would run: tar -xJf '$TARBALL' -C '$PREFIX' --strip-components=1"
        exit 0
    fi
    mkdir -p "$PREFIX"
    log "unpacking into $PREFIX ..."
    tar -xJf "$TARBALL" -C "$PREFIX" --strip-components=1 --no-same-owner
    [[ -x $PREFIX/bin/$TARGET-gcc ]] || die "after unpacking, $PREFIX/bin/$TARGET-gcc is missing"
    printf 'source=tarball\nfile=%s\nsha256=%s\n' "$(basename "$TARBALL")" "$got" \
        >"$PREFIX/.ft32-toolchain-install"
}

# ---------------------------------------------------------------------------------------------
# Mode 2: build from Debian source packages
is_root() { [[ $(id -u) -eq 0 ]]; }

apt_download_opts=()
is_root && apt_download_opts=(-o APT::Sandbox::User=root) # avoid the '_apt cannot access' warning

check_build_deps() {
    local missing=() p
    for p in "${BUILD_DEPS[@]}"; do
        if [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) != "install ok installed" ]]; then
            missing+=("$p")
        fi
    done
    [[ ${#missing[@]} -eq 0 ]] && { log "build dependencies present: ${BUILD_DEPS[*]}"; return 0; }
    if [[ $DRY_RUN -eq 1 ]]; then
        log "dry run: missing build dependencies: ${missing[*]}"
        return 0
    fi
    if ! is_root; then
        die "missing Debian build dependencies: ${missing[*]}
  Install them (needs root) and run this script again:
    sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}"
    fi
    log "installing build dependencies: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
        apt-get update
        apt-get install -y --no-install-recommends "${missing[@]}"
    fi
}

# apt's answer for package $1: 'URL' FILE-NAME SIZE SHA256:HEX, from the signed package index.
apt_uri() { apt-get download --print-uris "$1" 2>/dev/null | head -n1; }

stale_index() {
    if is_root; then
        log "$1; running 'apt-get update' and retrying"
        apt-get update >&2
        return 0
    fi
    die "$1. The package index is probably missing or stale. As root, run:
    apt-get update
  then run this script again."
}

declare -A DEB_OF=() # package -> verified .deb path, set by step_download

# Download (or reuse from DEB_DIR) package $1's .deb; $2=retry marks the second attempt.
fetch_deb() {
    local p=$1 retry=${2:-} line name sha deb got ver
    line=$(apt_uri "$p") || true
    if [[ -z $line ]]; then
        [[ -z $retry ]] || die "apt still does not know $p after 'apt-get update' (not Debian bookworm?)"
        stale_index "apt does not know $p"
        fetch_deb "$p" retry
        return
    fi
    read -r _ name _ sha <<<"$line"
    sha=${sha#SHA256:}
    [[ $sha =~ ^[0-9a-f]{64}$ ]] || die "could not read a SHA256 from apt's answer: $line"
    deb="$DEB_DIR/$name"
    # 'apt-get download' verifies what it fetches against the signed index, but keeps an existing
    # file unchecked: so a cached .deb is checked here.
    if [[ -f $deb && $(sha256sum "$deb" | awk '{print $1}') == "$sha" ]]; then
        log "reusing $name (matches the package index)"
    else
        rm -f "$deb"
        if ! (cd "$DEB_DIR" && apt-get download "${apt_download_opts[@]}" "$p" >&2); then
            [[ -z $retry ]] || die "apt-get download $p failed again"
            stale_index "apt-get download $p failed"
            fetch_deb "$p" retry
            return
        fi
    fi
    got=$(sha256sum "$deb" | awk '{print $1}')
    [[ $got == "$sha" ]] || die "sha256 of $deb is $got, but Debian's package index says $sha"
    ver=$(dpkg-deb -f "$deb" Version)
    [[ ${ver#*:} == "${SRC_UPSTREAM[$p]}"-* ]] ||
        die "$p is version $ver, but this recipe is for upstream ${SRC_UPSTREAM[$p]}"
    log "$name sha256=$got (= Debian's signed index)"
    DEB_OF[$p]=$deb
}

step_download() {
    mkdir -p "$DEB_DIR"
    local p
    for p in "${SRC_PKGS[@]}"; do fetch_deb "$p"; done
}

# The verified .deb of package $1.
deb_for() {
    [[ -n ${DEB_OF[$1]:-} ]] || die "internal: no verified .deb for $1 (download step not run)"
    printf '%s\n' "${DEB_OF[$1]}"
}

# The single file matching glob $1 (relative to the unpacked package root).
one_file() {
    local files=()
    mapfile -t files < <(compgen -G "$1" || true)
    [[ ${#files[@]} -eq 1 ]] || die "expected exactly one file matching $1, found ${#files[@]}"
    printf '%s\n' "${files[0]}"
}

step_unpack() {
    local root="$WORK_DIR/pkgroot" src="$WORK_DIR/src" p want=""
    for p in "${SRC_PKGS[@]}"; do want+="$(basename "$(deb_for "$p")") "; done
    if [[ -f $src/.unpacked && $(cat "$src/.unpacked") == "$want" ]]; then
        find_src_trees
        log "sources already unpacked from: $want"
        return 0
    fi
    rm -rf "$root" "$src"
    mkdir -p "$root" "$src"
    for p in "${SRC_PKGS[@]}"; do
        log "dpkg-deb -x $(basename "$(deb_for "$p")")"
        dpkg-deb -x "$(deb_for "$p")" "$root"
    done
    local tarballs=(
        "$(one_file "$root/usr/src/binutils/binutils-*.tar.xz")"
        "$(one_file "$root/usr/src/gcc-12/gcc-[0-9]*.tar.xz")"
        "$(one_file "$root/usr/src/newlib/newlib-*.tar.xz")"
        "$(one_file "$root/usr/src/gdb.tar.xz")"
    )
    local t
    for t in "${tarballs[@]}"; do
        log "unpacking $(basename "$t")"
        tar -xJf "$t" -C "$src" --no-same-owner
    done
    # The source trees are named unlike their tarballs (newlib-salsa/, gdb/): check them.
    find_src_trees
    [[ -d $SRC_GDB/sim/ft32 ]] || die "$SRC_GDB has no sim/ft32: this gdb source cannot build ft32-elf-run"
    rm -rf "$root/usr/src/binutils"/*.tar.xz "$root/usr/src/gcc-12"/*.tar.xz \
        "$root/usr/src/newlib"/*.tar.xz "$root/usr/src/gdb.tar.xz" # keep debian/ dirs, drop big copies
    printf '%s' "$want" >"$src/.unpacked"
}

find_src_trees() {
    local src="$WORK_DIR/src"
    SRC_BINUTILS=$(one_file "$src/binutils-[0-9]*")
    SRC_GCC=$(one_file "$src/gcc-[0-9]*")
    SRC_NEWLIB=$(one_file "$src/newlib-salsa")
    SRC_GDB=$(one_file "$src/gdb")
}

step_patch() {
    local diff="$WORK_DIR/pkgroot/usr/src/gcc-12/debian/patches/gcc-gfdl-build.diff"
    [[ -f $diff ]] || die "missing $diff"
    if (cd "$SRC_GCC" && patch -p2 -R --dry-run --silent <"$diff" >/dev/null 2>&1); then
        log "gcc-gfdl-build.diff is already applied"
        return 0
    fi
    log "applying gcc-gfdl-build.diff (patch -p2) in $SRC_GCC"
    (cd "$SRC_GCC" && patch -p2 --forward <"$diff")
}

# configure_and_make NAME SRC_DIR CONFIGURE_ARGS... -- MAKE_TARGET_GROUPS...
# Each make group is a space-separated list of targets run as one 'make' (groups containing
# 'install' run serially).
configure_and_make() {
    local name=$1 srcdir=$2
    shift 2
    local cfg=() groups=()
    while [[ $# -gt 0 && $1 != -- ]]; do cfg+=("$1"); shift; done
    [[ $# -gt 0 ]] && shift
    groups=("$@")
    local b="$WORK_DIR/build/$name"
    mkdir -p "$b"
    local stamp="$b/.configured-for"
    local want="$PREFIX ${cfg[*]}"
    if [[ ! -f $b/config.status || ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
        rm -rf "$b"
        mkdir -p "$b"
        log "$name: configure ${cfg[*]}"
        (cd "$b" && "$srcdir/configure" "${cfg[@]}") >"$WORK_DIR/build/$name-configure.log" 2>&1 ||
            die "$name: configure failed; see $WORK_DIR/build/$name-configure.log"
        printf '%s' "$want" >"$stamp"
    fi
    local g j t0
    for g in "${groups[@]}"; do
        j=$JOBS
        [[ $g == *install* ]] && j=1
        t0=$SECONDS
        log "$name: make -j$j $g   (log: $WORK_DIR/build/$name-make.log)"
        # shellcheck disable=SC2086 # $g is a list of make targets
        (cd "$b" && make -j"$j" $g) >>"$WORK_DIR/build/$name-make.log" 2>&1 ||
            die "$name: 'make $g' failed; last lines of $WORK_DIR/build/$name-make.log:
$(tail -n 30 "$WORK_DIR/build/$name-make.log")"
        log "$name: make $g done in $((SECONDS - t0)) s"
    done
}

common_cfg() { printf '%s\n' --target="$TARGET" --prefix="$PREFIX" --disable-nls; }

step_binutils() {
    local c
    mapfile -t c < <(common_cfg)
    configure_and_make binutils "$SRC_BINUTILS" "${c[@]}" --disable-werror --disable-gdb --disable-sim \
        -- "all" "install"
}
step_gcc() {
    local c
    mapfile -t c < <(common_cfg)
    configure_and_make gcc "$SRC_GCC" "${c[@]}" --enable-languages=c --without-headers --with-newlib \
        --disable-libssp --disable-shared --disable-threads --disable-libquadmath --disable-libgomp \
        --disable-libatomic \
        -- "all-gcc" "install-gcc" "all-target-libgcc" "install-target-libgcc"
}
step_newlib() {
    local c
    mapfile -t c < <(common_cfg)
    configure_and_make newlib "$SRC_NEWLIB" "${c[@]}" -- "all" "install"
}
step_gdb() {
    local c
    mapfile -t c < <(common_cfg)
    configure_and_make gdb "$SRC_GDB" "${c[@]}" --disable-werror --with-python=no -- "all" "install"
}

install_from_source() {
    log "building from Debian source packages: ${SRC_PKGS[*]}"
    log "work dir: $WORK_DIR   prefix: $PREFIX   jobs: $JOBS${STOP_AFTER:+   stop after: $STOP_AFTER}"
    if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
        die "source mode needs a Debian-like system (apt-get, dpkg-deb); use --tarball instead"
    fi
    if [[ $DRY_RUN -eq 1 ]]; then
        check_build_deps
        log "dry run: steps that would run: ${SOURCE_STEPS[*]}"
        log "  download: (cd $DEB_DIR && apt-get download ${SRC_PKGS[*]}), checked against the index"
        log "  unpack:   dpkg-deb -x each .deb; tar -xJf the tarballs under usr/src into $WORK_DIR/src"
        log "  patch:    (cd src/gcc-* && patch -p2 < usr/src/gcc-12/debian/patches/gcc-gfdl-build.diff)"
        log "  builds:   in $WORK_DIR/build/{binutils,gcc,newlib,gdb}, make -j$JOBS, install to $PREFIX"
        exit 0
    fi
    mkdir -p "$WORK_DIR" "$PREFIX"
    export PATH="$PREFIX/bin:$PATH" # gcc and newlib need the freshly installed binutils/gcc
    local s t0
    for s in "${SOURCE_STEPS[@]}"; do
        t0=$SECONDS
        log "==> step $s"
        case $s in
        download) ;;
        unpack | patch)
            local tool
            for tool in xz patch; do
                command -v "$tool" >/dev/null ||
                    die "'$tool' is missing: install Debian's package ${tool/xz/xz-utils}"
            done
            [[ $s == unpack ]] || find_src_trees
            ;;
        *)
            [[ $s == binutils ]] && check_build_deps # only the builds need them
            find_src_trees
            ;;
        esac
        "step_$s"
        log "<== step $s done in $((SECONDS - t0)) s"
        if [[ $s == "$STOP_AFTER" ]]; then
            log "stopping after step '$s' as asked (--stop-after); nothing more installed"
            exit 0
        fi
    done
    local v=()
    for s in "${SRC_PKGS[@]}"; do v+=("$s=$(dpkg-deb -f "$(deb_for "$s")" Version)"); done
    printf 'source=debian-source-packages\n%s\n' "${v[@]}" >"$PREFIX/.ft32-toolchain-install"
}

# ---------------------------------------------------------------------------------------------
main() {
    # A pre-existing working install is left alone (source mode with --stop-after always runs).
    if [[ $FORCE -eq 0 && $DRY_RUN -eq 0 && -z $STOP_AFTER ]] && smoke_test quiet; then
        log "$PREFIX already holds a working $TARGET toolchain (smoke test passes); nothing to do."
        log "use --force to reinstall."
        finish "already installed in"
        return 0
    fi
    if [[ -n $TARBALL ]]; then
        install_from_tarball
    else
        install_from_source
    fi
    finish
}

main
