#!/usr/bin/env bash
# pipelines/results-table.sh on a made-up archived run: the row it builds.
. "$(dirname "$0")/lib.sh"
R=$T/runs
mkdir -p "$R/retailrocket-paper" "$R/diginetica"
# A paper-protocol run of three epochs: the best test HR@20 is epoch 2, the
# best test MRR@20 epoch 3.
cat >"$R/retailrocket-paper/srgnn-x.log" <<'LOG'
{"epoch":1,"loss":7.8,"seconds":100,"test_HR@20":40.0,"test_MRR@20":20.0}
{"epoch":2,"loss":7.0,"seconds":120,"test_HR@20":50.5,"test_MRR@20":25.0}
{"epoch":3,"loss":6.9,"seconds":110,"test_HR@20":49.0,"test_MRR@20":26.5}
LOG
echo '{"HR@20":50.5,"Cov@20":71.234}' >"$R/retailrocket-paper/srgnn-x.score.json"
# A valid-protocol run still running (no score file): selected on valid HR@20.
cat >"$R/diginetica/narm.log" <<'LOG'
{"epoch":1,"seconds":90,"valid_HR@20":30.0,"valid_MRR@20":10.0,"test_HR@20":31.0,"test_MRR@20":11.0}
{"epoch":2,"seconds":90,"valid_HR@20":29.0,"valid_MRR@20":10.5,"test_HR@20":33.0,"test_MRR@20":12.0}
LOG
# A GCE-GNN run under the next-unseen task: said, and its published figure
# (the standard task's) not beside it.
cat >"$R/diginetica/gcegnn-next-unseen.log" <<'LOG'
{"epoch":1,"seconds":90,"valid_HR@20":20.0,"valid_MRR@20":8.0,"test_HR@20":21.0,"test_MRR@20":9.0,"task":"next-unseen","valid_repeats_dropped":5,"test_repeats_dropped":6}
LOG
check "table of archived runs" 0 env RESULTS_DIRS="$R" bash pipelines/results-table.sh
check_out "paper run: epoch 2 kept, best-test per metric, Cov, published, mean s" \
    '^\| retailrocket \| srgnn-x \| paper: .* \| 3 \| 2 \| – \| 50\.50 / 25\.00 / 71\.23 \| 50\.50 / 26\.50 \| 50\.48 / 26\.45 \| 110 \|$'
check_out "valid run: selected on valid, marked running" \
    '^\| diginetica \| narm \| valid: .* \| 2 \(running\) \| 1 \| 30\.00 / 10\.00 \| 31\.00 / 11\.00 / – \| 33\.00 / 12\.00 \| – \| 90 \|$'
check_out "next-unseen run: the task said, no published figure" \
    '^\| diginetica \| gcegnn-next-unseen \| valid: .*; next-unseen task \| 1 \(running\) \| 1 \| 20\.00 / 8\.00 \| 21\.00 / 9\.00 / – \| 21\.00 / 9\.00 \| – \| 90 \|$'
check "the first root wins over a later one" 0 env RESULTS_DIRS="$R $R" bash pipelines/results-table.sh
check_true "one row per run" '[ "$(grep -c "srgnn-x" "$T/out")" = 1 ]'
t_end
