#!/usr/bin/env bash
# Checks (check) or installs (install) the Debian packages sbr needs.
# check: when something is missing and we are root with apt-get, installs it;
# otherwise prints the exact command and fails.
set -u
REQUIRED="libigraph-dev libzstd-dev libopenblas-dev zstd pkg-config"
# Only tests use these (and make pipeline gnuplot, for its picture of the
# training curves; make install help2man, for the man pages); they skip,
# saying so, when these are absent.
OPTIONAL="python3-numpy python3-igraph python3-leidenalg clang time gnuplot-nox help2man strace socat"

missing_of() {
    local out=""
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || out="$out $p"
    done
    echo "$out"
}

can_install() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

install() {
    echo "sbr: installing:$*" >&2
    export DEBIAN_FRONTEND=noninteractive
    (apt-get install -y -qq "$@" >/dev/null 2>&1) ||
        (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "$@" >/dev/null 2>&1)
}

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "sbr: not a Debian system: make sure these are installed: $REQUIRED" >&2
    exit 0
fi

mode=${1:-check}
req=$(missing_of $REQUIRED)
opt=$(missing_of $OPTIONAL)
# In check mode optional packages are tried once per build tree, not every run.
stamp=build/.deps-optional-tried
[ "$mode" = check ] && [ -e "$stamp" ] && opt=""
if [ -z "$req" ] && [ -z "$opt" ]; then
    exit 0
fi
if can_install; then
    if [ -n "$req" ]; then
        install $req || { echo "sbr: apt-get install$req failed" >&2; exit 1; }
    fi
    # Optional packages: try, and carry on without them.
    if [ -n "$opt" ] && [ "${SBR_NO_OPTIONAL:-0}" != 1 ]; then
        install $opt || echo "sbr: optional packages not installed:$opt (their tests will skip)" >&2
        mkdir -p build && touch "$stamp"
    fi
    exit 0
fi
if [ -n "$req" ]; then
    echo "sbr: missing Debian packages:$req" >&2
    echo "sbr: install them with:  sudo apt-get install -y$req$opt" >&2
    exit 1
fi
echo "sbr: optional packages missing (tests that need them will skip):$opt" >&2
echo "sbr: install them with:  sudo apt-get install -y$opt" >&2
exit 0
