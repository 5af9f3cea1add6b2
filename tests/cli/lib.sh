# Helpers for CLI tests. A test script sources this, calls `check` and
# friends, and ends with `t_end`, which prints "N passed, N failed, N skipped".
#
#   check "help exits 0" 0 build/sbr-prep --help
#   check_out "help shows usage" '^Usage:'
#   check_err "names the file" 'bad\.csv'
set -u
B=${SBR_BUILD:-build}
T=$(mktemp -d "${TMPDIR:-/tmp}/sbr-cli-XXXXXX")
trap 'rm -rf "$T"' EXIT
_pass=0 _fail=0 _skip=0
DATA=${SBR_DATA_DIR:-../shared/data}

_ok() { _pass=$((_pass + 1)); echo "  ok   $1"; }
_bad() {
    _fail=$((_fail + 1))
    echo "  FAIL $1: $2"
    echo "       stderr: $(head -c 600 "$T/err" 2>/dev/null)"
}

# check DESC WANT_RC CMD... : runs CMD (stdout -> $T/out, stderr -> $T/err).
check() {
    local desc=$1 want=$2
    shift 2
    "$@" >"$T/out" 2>"$T/err" </dev/null
    local rc=$?
    if [ "$rc" = "$want" ]; then _ok "$desc"; else _bad "$desc" "exit $rc, wanted $want"; fi
}

# check_sh DESC WANT_RC 'shell pipeline' : same, for pipelines.
check_sh() {
    local desc=$1 want=$2
    bash -o pipefail -c "$3" >"$T/out" 2>"$T/err" </dev/null
    local rc=$?
    if [ "$rc" = "$want" ]; then _ok "$desc"; else _bad "$desc" "exit $rc, wanted $want"; fi
}

check_out() { if grep -Eq -- "$2" "$T/out"; then _ok "$1"; else _bad "$1" "stdout lacks /$2/"; fi; }
check_err() { if grep -Eq -- "$2" "$T/err"; then _ok "$1"; else _bad "$1" "stderr lacks /$2/"; fi; }
check_no_out() { if [ ! -s "$T/out" ]; then _ok "$1"; else _bad "$1" "stdout not empty"; fi; }
check_true() { if eval "$2"; then _ok "$1"; else _bad "$1" "false: $2"; fi; }
skip() { _skip=$((_skip + 1)); echo "  skip $1: $2"; }

t_end() {
    echo "$_pass passed, $_fail failed, $_skip skipped"
    [ "$_fail" = 0 ]
}
