#!/usr/bin/env bash
# pipelines/seeds-table.sh: mean ± spread per arm, and paired differences.
. "$(dirname "$0")/lib.sh"

S=pipelines/seeds-table.sh
# two arms, seeds 1..3; epoch 2 selected (the best validation HR@20); arm b
# without score files: its test figures come from the log's selected epoch
line() { echo "{\"epoch\":$1,\"valid_HR@20\":$2,\"valid_MRR@20\":$3,\"test_HR@20\":$4,\"test_MRR@20\":$5}"; }
for s in 1 2 3; do
    { line 1 10 5 9 4; line 2 $((40 + s)) 20 30 15; line 3 30 10 29 14; } >"$T/a-s$s.log"
    echo "{\"HR@20\":$((30 + s)),\"MRR@20\":15}" >"$T/a-s$s.score.json"
    { line 1 10 5 9 4; line 2 $((42 + 2 * s)) 21 $((31 + 2 * s)) 16; } >"$T/b-s$s.log"
done
check "the table" 0 bash "$S" "$T" a b
check_out "arm a: mean ± half range" "^\| a \| 3 \| 42.00 ± 1.00 \| 20.00 ± 0.00 \| 32.00 ± 1.00 \| 15.00 ± 0.00 \|"
check_out "arm b: test from its log" "^\| b \| 3 \| 46.00 ± 2.00 \| 21.00 ± 0.00 \| 35.00 ± 2.00 \| 16.00 ± 0.00 \|"
check "--std --paired a" 0 bash "$S" --std --paired a "$T" a b
check_out "standard deviation" "^\| a \| 3 \| 42.00 ± 1.00 \|"
check_out "b − a seed by seed, ahead in all 3" "^\| b \| 3 \| \+4.00 ± 1.00 \| \+1.00 ± 0.00 \| \+3.00 ± 1.00 \| \+1.00 ± 0.00 \| 3 of 3 \|"
check_true "awk wrote no stray files" "[ -z \"\$(ls | grep -E '^[0-9.]+\$')\" ]"
check "no arms: usage" 2 bash "$S" "$T"
t_end
