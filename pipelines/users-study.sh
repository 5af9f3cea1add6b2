#!/usr/bin/env bash
# ProxySR's logged-in users (issue #22): HR@20 / MRR@20 with the per-user
# proxy bias (--users 1) against without, at user fractions 0 (the plain
# model), 0.25 and 1, several seeds, on synthetic sessions whose returning
# users have a home cluster (sbr-gen --user-interest), and on the raw-log
# samples of ../shared/data/raw where present.
#
#   pipelines/users-study.sh [OUT_DIR]    (default docs/runs/users)
# SEEDS (default "1 2 3"), EPOCHS (4), CLICKS (150000), INTEREST (0.8).
set -eu
cd "$(dirname "$0")/.."
out=${1:-docs/runs/users}
B=${SBR_BIN:-build}
seeds=${SEEDS:-"1 2 3"}
mkdir -p "$out"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
common="-m proxysr -e ${EPOCHS:-4} --anneal-epochs 3 --lr-step 0 --select valid --threads 2"

run_all() { # NAME SESSIONS
    local name=$1 s=$2
    for seed in $seeds; do
        for f in 0 0.25 1; do
            local tag="$name-f$f-s$seed" args=""
            [ "$f" != 0 ] && args="--users 1 --user-fraction $f"
            # shellcheck disable=SC2086
            "$B/sbr-train" -q $common --seed "$seed" $args --log "$out/$tag.log" \
                -o "$W/$tag.model" "$s" 2>"$out/$tag.err" || { echo "$tag: failed" >&2; continue; }
            "$B/sbr-infer" -q -o "$W/$tag.topk" "$W/$tag.model" "$s" 2>>"$out/$tag.err"
            "$B/sbr-score" --json "$W/$tag.topk" >"$out/$tag.score.json"
        done
    done
}

"$B/sbr-gen" -q -n "${CLICKS:-150000}" --user-interest "${INTEREST:-0.8}" -o "$W/gen.tsv"
"$B/sbr-prep" -q -o "$W/gen.sbr" "$W/gen.tsv"
run_all synthetic "$W/gen.sbr"

raw=../shared/data/raw
if [ -n "${ONLY_SYNTHETIC:-}" ]; then
    echo "users-study: ONLY_SYNTHETIC: the raw-log samples are not rerun" >&2
elif [ -d "$raw" ]; then
    # RetailRocket's sample: one session per visitor and day, split 8:1:1 by
    # time; Diginetica's: ProxySR's recipe (its user_id where logged in)
    "$B/sbr-prep" -q --session-by day --split 8:1:1 -o "$W/rr.sbr" \
        "$raw/retailrocket-sample/sample_retailrocket.csv" && run_all rr-sample "$W/rr.sbr"
    "$B/sbr-prep" -q --recipe proxysr -o "$W/dg.sbr" \
        "$raw/diginetica-sample/sample_train-item-views.csv" && run_all dg-sample "$W/dg.sbr"
else
    echo "users-study: $raw absent: the raw-log samples are skipped" >&2
fi

# the table: mean and spread over the seeds of each (data, fraction)
for j in "$out"/*.score.json; do
    t=$(basename "$j" .score.json)
    hr=$(grep -o '"HR@20":[0-9.]*' "$j" | head -1 | cut -d: -f2)
    mrr=$(grep -o '"MRR@20":[0-9.]*' "$j" | head -1 | cut -d: -f2)
    echo "${t%-s*} $hr $mrr"
done | sort | awk '
    { n[$1]++; h[$1] += $2; hh[$1] += $2 * $2; m[$1] += $3; mm[$1] += $3 * $3 }
    END {
        for (k in n) {
            sh = sqrt(hh[k] / n[k] - (h[k] / n[k]) ^ 2); sm = sqrt(mm[k] / n[k] - (m[k] / n[k]) ^ 2)
            printf "| %s | %d | %.2f ± %.2f | %.2f ± %.2f |\n", k, n[k], h[k] / n[k], sh, m[k] / n[k], sm
        }
    }' | sort | { echo "| data, user fraction | runs | HR@20 | MRR@20 |"; echo "|---|---|---|---|"; cat; }
