#!/usr/bin/env bash
# Start-up of every tool (issue #25's bar: under 20 ms on a machine without a
# GPU): --version, --help, and a small sbr-infer (a model of a few thousand
# synthetic clicks ranking its test split), each the median of 20 runs timed
# by the shell (EPOCHREALTIME around the command), with /bin/true's row for
# what the shell's fork and exec cost by themselves.
set -u
cd "$(dirname "$0")/../.." || exit 2
B=build
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# median_ms CMD...: the median wall time of 20 runs, in ms
median_ms() {
    local i a b t=()
    for i in $(seq 20); do
        a=$EPOCHREALTIME
        "$@" >/dev/null 2>&1
        b=$EPOCHREALTIME
        t+=("$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (b - a) * 1000 }')")
    done
    printf '%s\n' "${t[@]}" | sort -g | sed -n 10p
}

"$B/sbr-gen" -q -n 3000 -s 5 | "$B/sbr-prep" -q - -o "$W/s.sbr"
"$B/sbr-train" -q -m srgnn -e 1 -o "$W/m.sbr" "$W/s.sbr"

echo "### Start-up of each tool (CPU, no GPU visible)"
echo
echo "Median of 20 runs each, in ms, timed by the shell; /bin/true is the shell's own fork and exec."
echo "Small sbr-infer: SR-GNN trained on 3,000 synthetic clicks ranking its $("$B/sbr-inspect" -m test.samples "$W/s.sbr") test samples."
echo
echo "| command | --version (ms) | --help (ms) |"
echo "|---|---|---|"
echo "| /bin/true | $(median_ms /bin/true) | |"
for t in "$B"/sbr-*; do
    echo "| $(basename "$t") | $(median_ms "$t" --version) | $(median_ms "$t" --help) |"
done
echo
echo "| small sbr-infer | $(median_ms "$B/sbr-infer" -o "$W/t.sbr" "$W/m.sbr" "$W/s.sbr") ms |"
echo "|---|---|"
