#!/usr/bin/env bash
# sbr-score on small top-K files with known metrics.
. "$(dirname "$0")/lib.sh"
MK=$B/test-helpers/mktopk

check "write a top-K file" 0 "$MK" "$T/t.sbr"
check "score it" 0 "$B/sbr-score" -c 1,3 "$T/t.sbr"
check_out "HR row" "^HR +33.33 +66.67"
check_out "MRR row" "^MRR +33.33 +50.00"
check_out "Cov row" "^Cov +30.00 +60.00"
check_out "by length" "^10\+ +1 +100.00 +100.00"
check "JSON" 0 "$B/sbr-score" -c 1,3 --json "$T/t.sbr"
check_out "JSON HR@3" '"HR@3":66.666667'
check "next-unseen" 0 "$B/sbr-score" -c 1,3 --next-unseen --json "$T/t.sbr"
check_out "one repeat skipped" '"samples":2,"skipped":1'
check_err "warns the lists were not made with --exclude-seen" "exclude-seen"
check "metrics file" 0 "$B/sbr-score" -q -c 3 -o "$T/m.sbr" "$T/t.sbr"
check "it is sbr.metrics" 0 "$B/sbr-inspect" -k "$T/m.sbr"
check_out "kind" "sbr.metrics"
check_sh "pipe: metrics to stdout, table to stderr" 0 "cat '$T/t.sbr' | '$B/sbr-score' -c 3 - -o - | '$B/sbr-inspect' -t hr -"
check_out "HR@3 value, in percent as everywhere" "^66.666"
check "cutoff beyond the list length" 1 "$B/sbr-score" -c 5,10,20 "$T/t.sbr"
check_err "says so" "lists hold 3 items"
check "decreasing cutoffs are misuse" 2 "$B/sbr-score" -c 3,1 "$T/t.sbr"
for bad in dup range order shape; do
    check "broken top-K file ($bad) written" 0 "$MK" "$T/$bad.sbr" "$bad"
    check "broken top-K file ($bad) rejected" 1 "$B/sbr-score" -c 3 "$T/$bad.sbr"
    check_err "broken ($bad): names the file" "$bad.sbr: "
done
check "wrong kind" 0 "$B/test-helpers/mksample" sbr.sessions "$T/s.sbr"
check "a sessions file where top-K is expected" 1 "$B/sbr-score" "$T/s.sbr"
check_err "says which kind" "is a sbr.sessions file, expected sbr.topk"
check "no file is misuse" 2 "$B/sbr-score"
t_end
