#!/usr/bin/env bash
# One markdown row per finished run under work/ (see pipelines/results.sh):
# read from the run's training log (one JSON line per epoch) and its metrics.
# "valid-selected": the test figures at the epoch of best validation HR@20;
# "best-test": the best test HR@20 and the best test MRR@20 over the epochs
# run, each on its own (the papers' reporting; it peeks at the test set).
# RESULTS_DIRS (default "work docs/runs") are searched for DIR/NAME.log; a run
# archived under docs/runs keeps its log and NAME.score.json (sbr-score --json
# of its top-K file) so that the table can be rebuilt without the work files.
set -u
cd "$(dirname "$0")/.." || exit 2
B=${BUILD:-build}

# Published HR@20 / MRR@20 (the papers; docs/RESULTS.md names the sources).
published() {
    case "$1 $2" in
    "retailrocket srgnn") echo "50.48 / 26.45" ;;
    "diginetica srgnn") echo "50.73 / 17.59" ;;
    "retailrocket gru4rec") echo "50.22 / 25.65" ;;
    "retailrocket narm") echo "50.64 / 27.41" ;;
    "retailrocket gcegnn") echo "55.28 / 28.34" ;;
    "diginetica gcegnn") echo "54.22 / 19.04" ;;
    "retailrocket dmignn") echo "57.53 / 31.27" ;;
    "retailrocket tagnn") echo "51.89 / 26.84" ;;
    "diginetica tagnn") echo "49.90 / 16.71" ;;
    "diginetica core") echo "52.88 / 18.57" ;;
    *) echo "" ;;
    esac
}

echo "| dataset | run | protocol | epochs | selected | valid HR@20 / MRR@20 | test, selected: HR@20 / MRR@20 / Cov@20 | test, best-test: HR@20 / MRR@20 | published | s / epoch |"
echo "|---|---|---|---|---|---|---|---|---|---|"
seen=""
for log in $(for d in ${RESULTS_DIRS:-work docs/runs}; do ls "$d"/*/*.log 2>/dev/null; done); do
    [ -s "$log" ] || continue
    grep -q '"epoch":' "$log" || continue   # not a training log (docs/runs/knn: no epochs)
    dir=$(basename "$(dirname "$log")") name=$(basename "$log" .log)
    case " $seen " in *" $dir/$name "*) continue ;; esac   # the first root wins
    seen="$seen $dir/$name"
    ds=${dir%-paper} proto=valid
    [ "$dir" != "$ds" ] && proto=paper
    # make pipeline's runs only: a study's own folder (clip-control, users, ...) has its table
    [ -f "pipelines/data-$ds.mk" ] || continue
    model=${name%%-*}
    # Under the next-unseen task (sbr-train --task) the figures are not the
    # standard task's: said in the protocol column, no published figure beside.
    task=standard pub=
    grep -q '"task":"next-unseen"' "$log" && task=next-unseen
    [ $task = standard ] && pub=$(published "$ds" "$model")
    # A finished run has its metrics: archived (.score.json) or in work/ (.metrics, .topk).
    done_=1 scores=""
    if [ -s "${log%.log}.score.json" ]; then scores=$(cat "${log%.log}.score.json")
    elif [ -s "${log%.log}.metrics" ]; then scores=$("$B/sbr-score" --json "${log%.log}.topk" 2>/dev/null)
    else done_=0; fi
    cov=$(grep -o '"Cov@20":[0-9.]*' <<<"$scores" | cut -d: -f2 | xargs printf '%.2f' 2>/dev/null)
    awk -v ds="$ds" -v name="$name" -v proto="$proto" -v task="$task" -v pub="$pub" \
        -v cov="${cov:-–}" -v done_="$done_" '
    function num(key,   m) {
        if (match($0, "\"" key "\":[-0-9.e]+")) return substr($0, RSTART + length(key) + 3, RLENGTH - length(key) - 3) + 0
        return -1
    }
    /"phase":"refit"/ {   # a refit: its last epoch is the model, tested once
        rn++; rsecs += num("seconds"); rth = num("test_HR@20"); rtm = num("test_MRR@20")
        next
    }
    {
        n++; secs += num("seconds")
        v = num("valid_HR@20"); th = num("test_HR@20"); tm = num("test_MRR@20")
        key = proto == "paper" ? th : v
        if (n == 1 || key > best) { best = key; sel = n; vh = v; vm = num("valid_MRR@20"); sh = th; sm = tm }
        if (th > bth) bth = th
        if (tm > btm) btm = tm
    }
    END {
        if (!n) exit
        if (rn) { # the first pass selected the epochs; the test figures are the refit'"'"'s
            printf "| %s | %s | refit: train + valid for the %d epochs selected on valid%s | %d + %d%s | %d | %.2f / %.2f | %.2f / %.2f / %s | – | %s | %.0f |\n",
                ds, name, rn, (task == "next-unseen" ? "; next-unseen task" : ""), n, rn,
                done_ ? "" : " (running)", rn, vh, vm, rth, rtm, done_ ? cov : "–",
                pub == "" ? "–" : pub, (secs + rsecs) / (n + rn)
            exit
        }
        valid = proto == "paper" ? "–" : sprintf("%.2f / %.2f", vh, vm)
        state = done_ ? "" : " (running)"
        printf "| %s | %s | %s | %d%s | %d | %s | %.2f / %.2f / %s | %.2f / %.2f | %s | %.0f |\n",
            ds, name, (proto == "paper" ? "paper: all train, best test epoch" : "valid: 90% train, selected on valid") \
                (task == "next-unseen" ? "; next-unseen task" : ""),
            n, state, sel, valid, sh, sm, done_ ? cov : "–", bth, btm, pub == "" ? "–" : pub, secs / n
    }' "$log"
done
