#!/usr/bin/env bash
# Conventions every tool must keep: --help, --version, misuse, exit codes.
. "$(dirname "$0")/lib.sh"

for tool in "$B"/sbr-*; do
    name=$(basename "$tool")
    check "$name --help exits 0" 0 "$tool" --help
    check_out "$name --help prints usage to stdout" "^Usage: $name"
    check_out "$name --help documents exit codes" "Exit status"
    check "$name -h exits 0" 0 "$tool" -h
    check "$name --version exits 0" 0 "$tool" --version
    check_out "$name --version names the tool" "^$name [0-9]"
    check "$name --no-such-option is misuse" 2 "$tool" --no-such-option
    check_err "$name misuse hints at --help" "Try '$name --help'"
    check_true "$name misuse names the tool as its other messages do" \
        "head -1 '$T/err' | grep -q '^$name: '"
    check_no_out "$name misuse prints nothing on stdout"
done

# Instant start (issue #25): no tool is linked against the CUDA libraries
# (cuBLAS is opened when a GPU context is made; the runtime is static), none
# re-executes itself for --version (common/cli.c: not for --help, --version or
# the service), and the tools that never read clusters do not load igraph.
# Start-up times: make bench (bench_start.sh).
for tool in "$B"/sbr-*; do
    name=$(basename "$tool")
    check_true "$name needs no CUDA library to start" \
        "! ldd '$tool' | grep -Eq 'libcublas|libcudart'"
    if command -v strace >/dev/null; then
        check_true "$name --version does not re-execute itself" \
            "[ \$(strace -f -e trace=execve '$tool' --version 2>&1 >/dev/null | grep -c 'execve(') -eq 1 ]"
    else
        skip "$name --version does not re-execute itself" "strace is not installed (make deps)"
    fi
done
for name in sbr-train sbr-infer sbr-graph sbr-prep sbr-score; do
    check_true "$name does not load igraph" "! ldd '$B/$name' | grep -q libigraph"
done
# ...while a run gets libgomp's short spin, malloc's huge pages and a
# single-threaded OpenBLAS, read from the environment before main.
"$B/sbr-gen" -q -n 3000 -s 2 | "$B/sbr-prep" -q - -o "$T/spin.sbr"
env -u GOMP_SPINCOUNT -u OMP_WAIT_POLICY -u OPENBLAS_NUM_THREADS -u GLIBC_TUNABLES "$B/sbr-train" -q -e 100000 \
    --patience 0 --no-test -o "$T/spin.model" "$T/spin.sbr" 2>/dev/null &
spin=$!
for _ in $(seq 50); do grep -qa GOMP_SPINCOUNT "/proc/$spin/environ" 2>/dev/null && break; sleep 0.1; done
check_true "a training runs with GOMP_SPINCOUNT=10000, OPENBLAS_NUM_THREADS=1 and malloc's huge pages" \
    "tr '\\0' '\\n' < /proc/$spin/environ | grep -qx GOMP_SPINCOUNT=10000 && tr '\\0' '\\n' < /proc/$spin/environ | grep -qx OPENBLAS_NUM_THREADS=1 && tr '\\0' '\\n' < /proc/$spin/environ | grep -qx GLIBC_TUNABLES=glibc.malloc.hugetlb=1"
kill $spin 2>/dev/null
wait $spin 2>/dev/null

# The version names the code's commit where the build is a git checkout.
if commit=$(git log -1 --format=%h --abbrev=7 -- common tools Makefile mk 2>/dev/null) && [ -n "$commit" ]; then
    check "sbr-train --version" 0 "$B/sbr-train" --version
    check_out "names the release and the code's commit" "^sbr-train [0-9]+\.[0-9]+\.[0-9]+\+g$commit(-dirty)?\$"
else
    skip "the version's commit" "not a git checkout"
fi

# A build without the required packages stops before the compiler, saying
# what to run (the detection itself is the Makefile's MISSING_HEADERS).
check "make without the packages' headers stops" 2 make -n all MISSING_HEADERS=igraph/igraph.h
check_err "and says make deps" "missing headers: igraph/igraph.h: run 'make deps'"
check "make deps-check goes on without them" 0 make -n deps-check MISSING_HEADERS=igraph/igraph.h
t_end
