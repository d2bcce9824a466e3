#!/usr/bin/env bash
# Builds an FT9xx SDK example, or a user's project laid out like one, into an ELF that
# `ft900-sim run --machine ft900` runs, the way the vendor's Eclipse projects build it.
#
#   sdk/build.sh [OPTIONS] EXAMPLE_NAME|PROJECT_DIR
#
#   EXAMPLE_NAME   a folder of the SDK's Examples/, e.g. "UART Example 1"
#   PROJECT_DIR    a directory with Sources/ (*.c, optional crt0.S), optional Includes/ and
#                  Scripts/*.ld: the layout of the SDK's examples
#
# Options:
#   -o FILE          the ELF to write (default: target/sdk/<slug>/<slug>.elf, slug = the
#                    project's name in lower case with '-' for anything not a letter or digit)
#   --name SLUG      use SLUG instead of the project's name for the build directory
#   --config release|debug
#                    the Eclipse configuration FT90x_Release (-Os, libft900 from -Os) or
#                    FT90x_Debug (-Og -g, libft900 from -Og -g3 -DDEBUG); default release
#   --cflags FLAGS   extra compiler flags for the project (also $EXTRA_CFLAGS)
#   --print-sdk      unpack/check the SDK and print its directory, build nothing
#   -h, --help       this text
#
# Environment:
#   FT9XX_SDK        an SDK directory (the one holding Source/ and Examples/) to use as it is;
#                    default: ../shared/vendor/ft9xx-sdk-2.7.0.tar.xz (checked against
#                    SHA256SUMS) unpacked under the build directory
#   FREERTOS_KERNEL  a FreeRTOS kernel directory (holding Source/tasks.c); default:
#                    ../shared/vendor/freertos-kernel-10.2.0.tar.xz unpacked likewise
#   FT900_SHARED     the shared directory (default: ../shared beside the repository)
#   LWIP_DIR         lwIP's sources for projects that use lwIP (default: .cache/third_party/lwip,
#                    fetched by firmware/third_party/fetch.sh; the SDK ships only its port)
#   FT32_TOOLCHAIN   the ft32-elf toolchain prefix (default: $HOME/.local/ft32-elf, then PATH)
#   SDK_BUILD_DIR    where everything is built (default: target/sdk in the repository)
#   SDK_JOBS         parallel compiler runs (default 2)
#
# What is built, and from where (see sdk/README.md for the reasons):
# - libft900: every Source/src/*.c with Source/Makefile's flags, once per SDK content and
#   configuration, in SDK_BUILD_DIR/lib/<config>-<hash>/libft900.a.
# - the project: Sources/**/*.c and *.S with -D__FT900__ -Wall -fmessage-length=0
#   -ffunction-sections (the FT9xx Eclipse plug-in's defaults), -I Includes, -I SDK
#   Source/include; its crt0.S and Scripts/*.ld, else the SDK's plain ones (those of
#   "Watchdog Example 1", which are what the toolchain's own start-up files are).
# - FreeRTOS (when the project includes FreeRTOS.h): the kernel's sources, heap_4 and the SDK's
#   FT32 port, with -DFT32_FREERTOS -DFT32_PORT -DFT32_PORT_HEAP=4 as the examples' .cproject.
# - lwIP (when the project includes lwip/...): lwIP's api, core, core/ipv4 and netif/ethernet.c
#   (apps and IPv6 excluded, as the lwIP example's .cproject does) and the SDK's port.
# - sdk/support/*.c: what the vendor toolchain's libraries add (newlib system calls, lwIP glue).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
SHARED=${FT900_SHARED:-$REPO/../shared}
BUILD_ROOT=${SDK_BUILD_DIR:-$REPO/target/sdk}
JOBS=${SDK_JOBS:-2}
CONFIG=release
OUT=
NAME=
PRINT_SDK=0
EXTRA=${EXTRA_CFLAGS:-}
PROJECT=

SDK_TARBALL=ft9xx-sdk-2.7.0.tar.xz
RTOS_TARBALL=freertos-kernel-10.2.0.tar.xz

log() { printf '[sdk] %s\n' "$*" >&2; }
die() {
    printf '[sdk] ERROR: %s\n' "$*" >&2
    exit 1
}

while [[ $# -gt 0 ]]; do
    case $1 in
    -o) [[ $# -ge 2 ]] || die "-o needs a file"; OUT=$2; shift 2 ;;
    --name) [[ $# -ge 2 ]] || die "--name needs a value"; NAME=$2; shift 2 ;;
    --config) [[ $# -ge 2 ]] || die "--config needs release or debug"; CONFIG=$2; shift 2 ;;
    --config=*) CONFIG=${1#*=}; shift ;;
    --cflags) [[ $# -ge 2 ]] || die "--cflags needs flags"; EXTRA="$EXTRA $2"; shift 2 ;;
    --cflags=*) EXTRA="$EXTRA ${1#*=}"; shift ;;
    --print-sdk) PRINT_SDK=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *) [[ -z $PROJECT ]] || die "one project at a time ('$PROJECT' and '$1')"; PROJECT=$1; shift ;;
    esac
done
case $CONFIG in
release | Release) CONFIG=release ;;
debug | Debug) CONFIG=debug ;;
*) die "--config must be release or debug, not '$CONFIG'" ;;
esac
[[ $PRINT_SDK -eq 1 || -n $PROJECT ]] || die "name an SDK example or a project directory (see --help)"

# ---- tools ----------------------------------------------------------------------------------
find_toolchain() {
    local bin
    if [[ -n ${FT32_TOOLCHAIN:-} ]]; then
        bin=$FT32_TOOLCHAIN/bin
        [[ -x $bin/ft32-elf-gcc ]] || die "FT32_TOOLCHAIN=$FT32_TOOLCHAIN has no bin/ft32-elf-gcc"
    elif [[ -x $HOME/.local/ft32-elf/bin/ft32-elf-gcc ]]; then
        bin=$HOME/.local/ft32-elf/bin
    elif command -v ft32-elf-gcc >/dev/null; then
        bin=$(dirname "$(command -v ft32-elf-gcc)")
    else
        die "the ft32-elf toolchain was not found (FT32_TOOLCHAIN, \$HOME/.local/ft32-elf, PATH): install it with toolchain/install.sh"
    fi
    CC=$bin/ft32-elf-gcc
    AS=$bin/ft32-elf-as
    AR=$bin/ft32-elf-ar
    SIZE=$bin/ft32-elf-size
}
for tool in tar xz sha256sum flock; do
    command -v "$tool" >/dev/null || die "'$tool' is needed (apt-get install tar xz-utils coreutils util-linux)"
done
mkdir -p "$BUILD_ROOT"
BUILD_ROOT=$(cd "$BUILD_ROOT" && pwd)

# Unpacking and the library build are shared by concurrent builds (tests run in parallel):
# one lock serialises them.
exec 9>"$BUILD_ROOT/.lock"

# unpack_vendor TARBALL TOP_DIR DEST: checks TARBALL against SHA256SUMS and unpacks its TOP_DIR
# into DEST (once; a stamp holds the checked sum).
unpack_vendor() {
    local tarball=$1 top=$2 dest=$3
    local file=$SHARED/vendor/$tarball sums=$SHARED/vendor/SHA256SUMS
    [[ -f $file ]] || die "$file is missing: put the vendor tarballs in $SHARED/vendor (or set FT900_SHARED, FT9XX_SDK / FREERTOS_KERNEL)"
    [[ -f $sums ]] || die "$sums is missing: cannot check $tarball"
    local want got
    want=$(awk -v f="$tarball" '$2 == f || $2 == "*" f { print $1 }' "$sums")
    [[ -n $want ]] || die "$sums has no line for $tarball"
    if [[ -f $dest/.stamp && $(cat "$dest/.stamp") == "$want" ]]; then
        return 0
    fi
    got=$(sha256sum "$file" | cut -d' ' -f1)
    [[ $got == "$want" ]] || die "$file: SHA-256 $got, but SHA256SUMS says $want"
    log "unpacking $tarball into $dest"
    rm -rf "$dest" "$dest.tmp"
    mkdir -p "$dest.tmp"
    tar -xJf "$file" -C "$dest.tmp"
    [[ -d $dest.tmp/$top ]] || die "$tarball has no top folder $top/"
    mv "$dest.tmp/$top" "$dest"
    rm -rf "$dest.tmp"
    echo "$want" >"$dest/.stamp"
}

flock 9
if [[ -n ${FT9XX_SDK:-} ]]; then
    SDK=$(cd "$FT9XX_SDK" && pwd) || die "FT9XX_SDK=$FT9XX_SDK is not a directory"
else
    SDK=$BUILD_ROOT/ft9xx-sdk-2.7.0
    unpack_vendor "$SDK_TARBALL" ft9xx-sdk "$SDK"
fi
[[ -f $SDK/Source/include/ft900.h && -d $SDK/Source/src ]] ||
    die "$SDK does not look like an FT9xx SDK (no Source/include/ft900.h, Source/src)"
flock -u 9
if [[ $PRINT_SDK -eq 1 ]]; then
    echo "$SDK"
    exit 0
fi
find_toolchain

# ---- the project ----------------------------------------------------------------------------
if [[ -d $PROJECT ]]; then
    PROJ=$(cd "$PROJECT" && pwd)
elif [[ -d $SDK/Examples/$PROJECT ]]; then
    PROJ=$SDK/Examples/$PROJECT
else
    die "'$PROJECT' is neither a directory nor an example of $SDK/Examples"
fi
[[ -d $PROJ/Sources ]] || die "$PROJ has no Sources/ folder (the SDK project layout)"
PNAME=$(basename "$PROJ")
SLUG=${NAME:-$(printf '%s' "$PNAME" | tr 'A-Z' 'a-z' | sed 's/[^a-z0-9]\{1,\}/-/g; s/^-//; s/-$//')}
[[ -n $SLUG ]] || die "cannot make a build name from '$PNAME': use --name"
WORK=$BUILD_ROOT/$SLUG
OUT=${OUT:-$WORK/$SLUG.elf}

mapfile -t -d '' CSRCS < <(find "$PROJ/Sources" -name '*.c' -print0 | sort -z)
mapfile -t -d '' ASRCS < <(find "$PROJ/Sources" \( -name '*.S' -o -name '*.s' \) -print0 | sort -z)
[[ ${#CSRCS[@]} -gt 0 ]] || die "$PROJ/Sources has no .c files"

# The project's own headers are looked for where its sources include them from.
uses() { grep -qsE "$1" "${CSRCS[@]}" "$PROJ"/Includes/*.h 2>/dev/null; }
USES_RTOS=0
USES_LWIP=0
uses '#[[:space:]]*include[[:space:]]*[<"]FreeRTOS\.h[>"]' && USES_RTOS=1
uses '#[[:space:]]*include[[:space:]]*[<"]lwip/' && USES_LWIP=1

# ---- flags ----------------------------------------------------------------------------------
# Source/Makefile's flags for libft900; the Eclipse plug-in's for projects.
if [[ $CONFIG == release ]]; then
    LIB_OPT=(-Os)
    PROJ_OPT=(-Os)
else
    LIB_OPT=(-g3 -DDEBUG -Og)
    PROJ_OPT=(-Og -g -fvar-tracking -fvar-tracking-assignments)
fi
LIB_CFLAGS=(-I"$SDK/Source/include" -fmessage-length=0 -ffunction-sections -Wall -Wextra
    -std=gnu99 "${LIB_OPT[@]}" -D__FT900__)
PROJ_CFLAGS=(-D__FT900__ "${PROJ_OPT[@]}" -Wall -fmessage-length=0 -ffunction-sections)
PROJ_INC=()
[[ -d $PROJ/Includes ]] && PROJ_INC+=(-I"$PROJ/Includes")

# compile_all OBJDIR ROOT CFLAGS... -- SRC...: compiles each SRC (a path under ROOT) to
# OBJDIR/<its path under ROOT>.o, SDK_JOBS at a time; prints the failing command's output.
compile_all() {
    local objdir=$1 root=$2
    shift 2
    local flags=()
    while [[ $1 != -- ]]; do flags+=("$1"); shift; done
    shift
    local src obj running=0 failed=0
    for src in "$@"; do
        obj=$objdir/${src#"$root"/}.o
        mkdir -p "$(dirname "$obj")"
        (
            if ! "$CC" "${flags[@]}" -c "$src" -o "$obj" 2>"$obj.log"; then
                echo "[sdk] FAILED: $CC ${flags[*]} -c '$src'" >&2
                cat "$obj.log" >&2
                exit 1
            fi
        ) &
        running=$((running + 1))
        if [[ $running -ge $JOBS ]]; then
            wait -n || failed=1
            running=$((running - 1))
        fi
    done
    while [[ $running -gt 0 ]]; do
        wait -n || failed=1
        running=$((running - 1))
    done
    [[ $failed -eq 0 ]] || die "compilation failed (see above)"
}

# objects_of OBJDIR ROOT SRC...: the object file names compile_all made.
objects_of() {
    local objdir=$1 root=$2 src
    shift 2
    for src in "$@"; do printf '%s\0' "$objdir/${src#"$root"/}.o"; done
}

# ---- libft900, once per SDK content and configuration ----------------------------------------
flock 9
LIB_HASH=$( (cd "$SDK/Source" && find src include -type f -print0 | sort -z | xargs -0 sha256sum
    printf '%s\n' "${LIB_CFLAGS[@]}" "$CC") | sha256sum | cut -c1-16)
LIBDIR=$BUILD_ROOT/lib/$CONFIG-$LIB_HASH
if [[ ! -f $LIBDIR/libft900.a ]]; then
    mapfile -t -d '' LIBSRCS < <(find "$SDK/Source/src" -maxdepth 1 -name '*.c' -print0 | sort -z)
    log "building libft900 ($CONFIG, ${#LIBSRCS[@]} files) into $LIBDIR"
    rm -rf "$LIBDIR"
    compile_all "$LIBDIR/obj" "$SDK/Source/src" "${LIB_CFLAGS[@]}" -- "${LIBSRCS[@]}"
    mapfile -t -d '' LIBOBJS < <(objects_of "$LIBDIR/obj" "$SDK/Source/src" "${LIBSRCS[@]}")
    "$AR" rcs "$LIBDIR/libft900.a.tmp" "${LIBOBJS[@]}"
    mv "$LIBDIR/libft900.a.tmp" "$LIBDIR/libft900.a"
fi
flock -u 9

# ---- FreeRTOS and lwIP ----------------------------------------------------------------------
EXTRA_SRCS=() # "ROOT<TAB>SRC" pairs compiled with the project's flags
PROJ_DEFS=()
SUPPORT=("$SCRIPT_DIR/support/syscalls.c")
if [[ $USES_RTOS -eq 1 ]]; then
    if [[ -n ${FREERTOS_KERNEL:-} ]]; then
        RTOS=$(cd "$FREERTOS_KERNEL" && pwd) || die "FREERTOS_KERNEL=$FREERTOS_KERNEL is not a directory"
    else
        RTOS=$BUILD_ROOT/freertos-kernel-10.2.0
        flock 9
        unpack_vendor "$RTOS_TARBALL" freertos-kernel "$RTOS"
        flock -u 9
    fi
    [[ -f $RTOS/Source/tasks.c ]] || die "$RTOS is not a FreeRTOS kernel (no Source/tasks.c)"
    PORT=$SDK/Source/3rdparty/FreeRTOS/Source/portable/GCC/FT32
    [[ -f $PORT/port.c ]] || die "$SDK has no FreeRTOS FT32 port ($PORT)"
    PROJ_DEFS+=(-DFT32_FREERTOS -DFT32_PORT -DFT32_PORT_HEAP=4)
    PROJ_INC+=(-I"$RTOS/Source/include" -I"$PORT")
    for f in "$RTOS"/Source/*.c "$RTOS/Source/portable/MemMang/heap_4.c"; do
        EXTRA_SRCS+=("$RTOS/Source"$'\t'"$f")
    done
    for f in "$PORT"/*.c "$PORT"/*.S; do
        [[ -e $f ]] && EXTRA_SRCS+=("$SDK/Source/3rdparty"$'\t'"$f")
    done
fi
if [[ $USES_LWIP -eq 1 ]]; then
    LWIP=${LWIP_DIR:-$REPO/.cache/third_party/lwip}
    [[ -f $LWIP/src/core/tcp.c ]] ||
        die "lwIP's sources are not in $LWIP: run firmware/third_party/fetch.sh (or set LWIP_DIR)"
    ARCH=$SDK/Source/3rdparty/lwip/src/arch
    [[ -f $ARCH/netif_ft900.c ]] || die "$SDK has no lwIP port ($ARCH)"
    PROJ_INC+=(-I"$ARCH" -I"$LWIP/src/include")
    # netif/: only ethernet.c, the Ethernet framing the SDK's port sits on (slipif, bridgeif,
    # 6LoWPAN and ZEP are other link layers, and slipif needs a serial I/O layer nobody ships).
    for f in "$LWIP"/src/api/*.c "$LWIP"/src/core/*.c "$LWIP"/src/core/ipv4/*.c "$LWIP"/src/netif/ethernet.c; do
        EXTRA_SRCS+=("$LWIP/src"$'\t'"$f")
    done
    for f in "$ARCH"/*.c; do
        EXTRA_SRCS+=("$SDK/Source/3rdparty"$'\t'"$f")
    done
    SUPPORT+=("$SCRIPT_DIR/support/lwip_glue.c")
fi
PROJ_INC+=(-I"$SDK/Source/include")
read -r -a EXTRA_ARR <<<"$EXTRA"
CFLAGS_ALL=("${PROJ_CFLAGS[@]}" "${PROJ_DEFS[@]}" "${EXTRA_ARR[@]}" "${PROJ_INC[@]}")

# ---- start-up code and linker script --------------------------------------------------------
PLAIN="$SDK/Examples/Watchdog Example 1"
CRT0=
for f in "${ASRCS[@]}"; do
    [[ $(basename "$f") == *crt0* ]] && CRT0=$f
done
if [[ -z $CRT0 ]]; then
    CRT0="$PLAIN/Sources/crt0.S"
    [[ -f $CRT0 ]] || die "the SDK's plain start-up code ($CRT0) is missing"
    ASRCS=("$CRT0" "${ASRCS[@]}")
fi
mapfile -t -d '' LDS < <(find "$PROJ/Scripts" -maxdepth 1 -name '*.ld' -print0 2>/dev/null | sort -z)
case ${#LDS[@]} in
0) LDSCRIPT="$PLAIN/Scripts/ldscript.ld" ;;
1) LDSCRIPT=${LDS[0]} ;;
*) die "$PROJ/Scripts holds ${#LDS[@]} linker scripts: keep one" ;;
esac
[[ -f $LDSCRIPT ]] || die "the SDK's plain linker script ($LDSCRIPT) is missing"

# ---- compile and link -----------------------------------------------------------------------
log "building '$PNAME' ($CONFIG$([[ $USES_RTOS -eq 1 ]] && echo ', FreeRTOS')$([[ $USES_LWIP -eq 1 ]] && echo ', lwIP')) into $WORK"
rm -rf "$WORK/obj"
mkdir -p "$WORK/obj"
compile_all "$WORK/obj/project" "$PROJ" "${CFLAGS_ALL[@]}" -- "${CSRCS[@]}"
mapfile -t -d '' OBJS < <(objects_of "$WORK/obj/project" "$PROJ" "${CSRCS[@]}")
declare -A BY_ROOT=()
for pair in "${EXTRA_SRCS[@]}"; do
    BY_ROOT[${pair%%$'\t'*}]+="${pair#*$'\t'}"$'\n'
done
n=0
for root in "${!BY_ROOT[@]}"; do
    n=$((n + 1))
    mapfile -t srcs < <(printf '%s' "${BY_ROOT[$root]}")
    compile_all "$WORK/obj/lib$n" "$root" "${CFLAGS_ALL[@]}" -- "${srcs[@]}"
    mapfile -t -d '' more < <(objects_of "$WORK/obj/lib$n" "$root" "${srcs[@]}")
    OBJS+=("${more[@]}")
done
compile_all "$WORK/obj/support" "$SCRIPT_DIR/support" "${CFLAGS_ALL[@]}" -- "${SUPPORT[@]}"
mapfile -t -d '' SUPOBJS < <(objects_of "$WORK/obj/support" "$SCRIPT_DIR/support" "${SUPPORT[@]}")
AOBJS=()
for f in "${ASRCS[@]}"; do
    obj=$WORK/obj/asm/$(basename "$f").o
    mkdir -p "$WORK/obj/asm"
    # As the Eclipse projects assemble: GNU as with the chip symbol, no C preprocessor.
    "$AS" --defsym __FT900__=1 -I"$PROJ/Sources" -o "$obj" "$f" || die "assembling $f failed"
    AOBJS+=("$obj")
done
mkdir -p "$(dirname "$OUT")"
# The start-up code first: the linker script keeps its section only by placing it first
# (no --gc-sections, see sdk/README.md). libft900 and newlib's libc, then our support code
# for what the vendor toolchain's libstub and lwIP library would add.
"$CC" -nostartfiles -Wl,--entry=_start -Wl,-dT,"$LDSCRIPT" -Wl,-Map,"$WORK/$SLUG.map" \
    -o "$OUT" "${AOBJS[@]}" "${OBJS[@]}" "${SUPOBJS[@]}" \
    -L"$LIBDIR" -Wl,--start-group -lft900 -lc -lgcc -Wl,--end-group ||
    die "linking $OUT failed"
"$SIZE" "$OUT" >&2
echo "$OUT"
