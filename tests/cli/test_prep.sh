#!/usr/bin/env bash
# sbr-prep and sbr-gen: layouts, protocol, bad input, determinism, and the
# published recipes checked against an independent Python implementation.
. "$(dirname "$0")/lib.sh"
P=$B/sbr-prep
G=$B/sbr-gen
I=$B/sbr-inspect
F=tests/fixtures/prep
PY=/usr/bin/python3

# t NAME FILE: tensor values on one line
t() { "$I" -t "$1" "$2" | tr '\n' ' ' | sed 's/ $//'; }
m() { "$I" -m "$1" "$2"; }

# --- Kaggle events.csv fixture: mixed events, unsorted, duplicates, gaps ------
check "kaggle fixture prepares" 0 "$P" --min-support 1 --min-len 2 --min-prefix 1 --valid-frac 0 \
    -o "$T/k.sess" $F/events_small.csv
check_err "summary counts other events" "other_event.rows +2"
check_err "summary counts duplicate rows" "duplicate.clicks +1"
check_err "summary counts single-click sessions" "short_pre.sessions +1"
check_err "summary counts unseen test items" "unseen_test_item.clicks +1"
check_err "summary gives samples per split" "train +3 sessions +8 clicks +5 samples"
check_true "sessions sorted by time, cut at the gap, in date order" \
    '[ "$(t train.offsets $T/k.sess)" = "0 3 6 8" ] && [ "$(t train.items $T/k.sess)" = "1 2 3 1 3 4 5 6" ]'
check_true "original ids kept, by first appearance" \
    '[ "$(t items.original $T/k.sess)" = "-1 10 11 12 30 20 21" ]'
check_true "test split: last days, unseen item dropped" '[ "$(t test.items $T/k.sess)" = "1 2" ]'
check_true "users and times kept" \
    '[ "$(t train.users $T/k.sess)" = "1 2 1" ] && [ "$(t train.times $T/k.sess | cut -d" " -f1-3)" = "1000 1001 1002" ]'
check_true "metadata records the protocol and counts" \
    '[ "$(m prep.format $T/k.sess)" = kaggle ] && [ "$(m prep.count.duplicate.clicks $T/k.sess)" = 1 ] && [ "$(m train.samples $T/k.sess)" = 5 ]'
check_true "provenance holds the input's SHA-256" \
    '"$I" -m sbr.inputs $T/k.sess | grep -q "$(sha256sum $F/events_small.csv | cut -c1-64)"'
check "kaggle: --events view,addtocart" 0 "$P" --events view,addtocart --min-support 1 --min-len 2 \
    --valid-frac 0 -o "$T/k2.sess" $F/events_small.csv
check_true "addtocart rows join the sessions" '[ "$(m prep.count.other_event.rows $T/k2.sess)" = 1 ]'
check "kaggle: --gap 3h joins visitor 1's sessions" 0 "$P" --gap 3h --min-support 1 --min-len 2 \
    --min-prefix 1 --valid-frac 0 -o "$T/k3.sess" $F/events_small.csv
check_true "one session fewer with a longer gap" '[ "$(m train.sessions $T/k3.sess)" = 2 ]'

# --- bad input ------------------------------------------------------------------
check "malformed row fails" 1 "$P" -o "$T/x.sess" $F/events_bad.csv
check_err "error names FILE:LINE and the reason" "events_bad\.csv:3: visitorid 'abc' is not an integer"
check_true "no output left behind" '[ ! -e "$T/x.sess" ]'
check "--skip-bad counts instead (then nothing left: exit 1)" 1 "$P" --skip-bad --min-support 1 \
    -o "$T/x.sess" $F/events_bad.csv
check_err "skipped rows are reported" "skipped 3 malformed rows"
printf 'timestamp,visitorid,event,itemid,transactionid\n1000,1,view,10,\n1001,1,view,-5,\n1002,1,view,11,\n' >"$T/neg.csv"
check "a negative item id fails" 1 "$P" --min-support 1 -o "$T/x.sess" "$T/neg.csv"
check_err "as a bad row" "neg\.csv:3: negative itemid -5"
check "--skip-bad counts it" 0 "$P" --skip-bad --min-support 1 --min-len 2 --min-prefix 1 --test-days 0 \
    -o "$T/neg.sess" "$T/neg.csv"
check_true "and -5 is nowhere in the ids" \
    '[ "$(m prep.count.malformed.rows $T/neg.sess)" = 1 ] && [ "$(t items.original $T/neg.sess)" = "-1 10 11" ]'
: >"$T/empty.csv"
check "empty input fails" 1 "$P" -o "$T/x.sess" "$T/empty.csv"
check_err "empty input is named" "empty\.csv: empty input"
check "unknown layout fails" 1 "$P" -o "$T/x.sess" tests/cli/lib.sh
check_err "asks for --format" "give --format"
check "forbidden pickle opcode fails" 1 "$P" -o "$T/x.sess" $F/forbidden_global.pkl $F/tiny_test.pkl
check_err "names the opcode and offset" "forbidden pickle opcode GLOBAL \(0x63\) at byte 18"
check "dict pickle fails" 1 "$P" -o "$T/x.sess" $F/dict.pkl $F/tiny_test.pkl
check_err "EMPTY_DICT is refused" "EMPTY_DICT"
check "item id 0 fails" 1 "$P" -o "$T/x.sess" $F/zero_item.pkl $F/tiny_test.pkl
check_err "out-of-range id is named" "training sessions\[0\]\[1\] = 0"
head -c 30 $F/tiny_train.pkl >"$T/cut.pkl"
check "pickle cut in half fails" 1 "$P" -o "$T/x.sess" "$T/cut.pkl" $F/tiny_test.pkl
check_err "truncation is named" "truncated"
check "a training pickle of empty sessions fails" 1 "$P" -o "$T/x.sess" $F/empty_train.pkl $F/tiny_test.pkl
check_err "says so" "empty_train\.pkl: no training sessions with items"
for pr in 0 1; do
    check "a protocol-$pr pickle fails" 1 "$P" -o "$T/x.sess" $F/proto${pr}_train.pkl $F/tiny_test.pkl
    check_err "as not a pickle of protocol 2 or later" "proto${pr}_train\.pkl: not a pickle of protocol 2 or later"
    check "with --format srgnn too" 1 "$P" -f srgnn -o "$T/x.sess" $F/proto${pr}_train.pkl $F/tiny_test.pkl
    check_err "same words" "not a pickle of protocol 2 or later"
done
check "--gap 0 is misuse" 2 "$P" --gap 0 -o "$T/x.sess" $F/events_small.csv
check_err "names the option" "--gap: must be more than 0"
check "a CSV as a pickle fails" 1 "$P" --format srgnn -o "$T/x.sess" $F/events_small.csv $F/tiny_test.pkl
check_err "not a pickle" "not a pickle"
check "refuses binary output to a terminal-less stdout? (pipe ok)" 0 bash -c "$P -q $F/tiny_train.pkl $F/tiny_test.pkl | cat >/dev/null"

# --- options that do not apply to the layout read are misuse ----------------------------
for o in "--max-len 5" "--min-support 1" "--iterate" "--test-days 2" "--gap 1h" "--events view" \
    "--sep ;" "--session-col 1" "--time-unit ms" "--no-header" "--dedup" "--skip-bad" "--pre-min-len 1"; do
    check "pickles: $o is misuse" 2 "$P" $o -o "$T/x.sess" $F/tiny_train.pkl $F/tiny_test.pkl
done
check_err "one line names the option and the layout" "^sbr-prep: --pre-min-len does not apply to the srgnn layout"
check "pickle directory: --max-len is misuse" 2 "$P" --max-len 5 -o "$T/x.sess" $F/srgnn_full
check_true "no output left behind" '[ ! -e "$T/x.sess" ]'
check "kaggle: --sep is misuse" 2 "$P" --format kaggle --sep ';' -o "$T/x.sess" $F/events_small.csv
check "kaggle (sniffed): --time-unit is misuse" 2 "$P" --time-unit ms -o "$T/x.sess" $F/events_small.csv
check_err "names the layout" "--time-unit does not apply to the kaggle layout"
check "sessionrec: --events is misuse" 2 "$P" --events view -o "$T/x.sess" $F/recent.tsv
check "sessionrec: --gap is misuse" 2 "$P" --gap 1h -o "$T/x.sess" $F/recent.tsv
check "csv with --session-col: --gap is misuse" 2 "$P" --format csv --session-col 1 --item-col 2 \
    --gap 1h -o "$T/x.sess" $F/recent.tsv
check_err "says why" "--gap does not apply to a csv log with --session-col"
check "--test-days with a TEST log is misuse" 2 "$P" --test-days 3 -o "$T/x.sess" $F/recent.tsv $F/recent.tsv
check_sh "stdin (sniffed): --events on session-rec is misuse" 2 "$P --events view -o $T/x.sess - <$F/recent.tsv"
check "sessionrec: column options apply" 0 "$P" --min-support 1 --valid-frac 0 --item-col SessionId \
    --session-col ItemId -o "$T/x.sess" $F/recent.tsv
check_err "without turning it into csv" "sessionrec layout"
# column options (or --sep, --no-header) without --format: a csv
printf 'sid;it;ts\n1;5;100\n1;6;101\n2;5;200\n2;6;201\n' >"$T/c.csv"
check "column options without --format mean csv" 0 "$P" --sep ';' --session-col sid --item-col it \
    --time-col ts --min-support 1 --test-days 0 --valid-frac 0 -o "$T/c.sess" "$T/c.csv"
check_err "read as csv" "csv layout"
check_true "with its sessions" '[ "$(t train.offsets $T/c.sess)" = "0 2 4" ]'
tr ';' , <"$T/c.csv" >"$T/c2.csv"
check "column options alone mean csv too" 0 "$P" --session-col 1 --item-col 2 --time-col 3 \
    --min-support 1 --test-days 0 --valid-frac 0 -o "$T/c2.sess" "$T/c2.csv"
check "csv without column options still asks for --format" 1 "$P" -o "$T/x.sess" "$T/c2.csv"
check_err "says so" "give --format"

# --- a log published already split: TEST gives the test sessions --------------------
printf 'SessionId\tItemId\tTime\n1\t10\t100\n1\t11\t101\n2\t10\t200\n2\t12\t201\n2\t11\t202\n' >"$T/tr.tsv"
printf 'SessionId\tItemId\tTime\n1\t11\t50\n1\t12\t51\n1\t99\t52\n3\t10\t60\n' >"$T/te.tsv"
check "separate TEST log" 0 "$P" --min-support 1 --valid-frac 0 -o "$T/st.sess" "$T/tr.tsv" "$T/te.tsv"
check_err "its rows are named" "of which 4 from"
check_true "same session id in both files stays two sessions; unseen dropped" \
    '[ "$(t train.offsets $T/st.sess)" = "0 2 5" ] && [ "$(t test.items $T/st.sess)" = "2 3" ] && [ "$(m prep.count.short_pre.sessions $T/st.sess)" = 1 ]'
check "a TEST log that is bad" 1 "$P" -o "$T/x.sess" "$T/tr.tsv" $F/events_bad.csv
check_err "names the TEST file" "events_bad\.csv:"

# --- --train-recent: SR-GNN's yoochoose1_64 cut -------------------------------------------
# recent.tsv: training sessions [8 2 3] [2 3 4 5] [4 5] [5 6 1] (2+3+1+2 = 8 samples, in
# date order), test [1 6 8 7] (7 never in training).
R="--min-support 1 --valid-frac 0"
check "--train-recent 1/2" 0 "$P" $R --train-recent 1/2 -o "$T/r2.sess" $F/recent.tsv
check_err "the cut is reported" "kept the training sessions from the one holding the last 4 of 8 samples"
check_err "what it dropped is counted" "train_recent.samples +2"
check_true "the cut falls inside [2 3 4 5] (samples 2-4): the whole session is kept" \
    '[ "$(t train.offsets $T/r2.sess)" = "0 4 6 9" ] && [ "$(m train.samples $T/r2.sess)" = 6 ] && [ "$(m prep.count.train_recent.sessions $T/r2.sess)" = 1 ]'
check_true "items numbered over the kept sessions; 8 (cut away) an id after them, 7 dropped" \
    '[ "$(t items.original $T/r2.sess)" = "-1 2 3 4 5 6 1 8" ] && [ "$(t test.items $T/r2.sess)" = "6 5 7" ] && [ "$(m n_items $T/r2.sess)" = 6 ]'
check_true "the fraction is recorded" '[ "$(m prep.train_recent $T/r2.sess)" = 1/2 ]'
check "--train-recent 1/4" 0 "$P" $R --train-recent 1/4 -o "$T/r4.sess" $F/recent.tsv
check_true "the cut falls between sessions" \
    '[ "$(t train.items $T/r4.sess)" = "1 2 3" ] && [ "$(t test.items $T/r4.sess)" = "3 2 4" ] && [ "$(m n_ids $T/r4.sess)" = 4 ]'
check "--train-recent 0.5 --unseen drop" 0 "$P" $R --train-recent 0.5 --unseen drop -o "$T/r5.sess" $F/recent.tsv
check_true "a decimal cuts as the fraction; test items cut away dropped" \
    '[ "$(t train.offsets $T/r5.sess)" = "0 4 6 9" ] && [ "$(t test.items $T/r5.sess)" = "6 5" ] && [ "$(m n_ids $T/r5.sess)" = 6 ]'
check "--train-recent below one sample" 1 "$P" $R --train-recent 1/16 -o "$T/x.sess" $F/recent.tsv
check_err "says so" "recent\.tsv: the most recent 1/16 of the 8 training samples is less than one sample"
for bad in 2/1 0 1/0 abc 0.1234567; do
    check "--train-recent $bad is misuse" 2 "$P" --train-recent $bad -o "$T/x.sess" $F/recent.tsv
done
check_err "names the option" "--train-recent: '0.1234567' is not a fraction"
check "--train-recent on pickles is misuse" 2 "$P" --train-recent 1/64 -o "$T/x.sess" $F/tiny_train.pkl $F/tiny_test.pkl

# --- SR-GNN pickles (tiny fixture) --------------------------------------------------
check "tiny pickles prepare" 0 "$P" -o "$T/p.sess" $F/tiny_train.pkl $F/tiny_test.pkl
check_err "min prefix inferred" "min prefix 1 \(inferred"
check_true "test pairs as prefix+target, unseen kept as new ids" \
    '[ "$(t test.items $T/p.sess)" = "1 2 3 3 2 2 1 3 5 6 1" ] && [ "$(m test.last_only $T/p.sess)" = 1 ]'
check_true "big ids (LONG1) survive in the id map" '[ "$(t items.original $T/p.sess)" = "-1 5 7 9 100000 70000000000 123456789" ]'
check "--min-prefix 2 on pickles" 0 "$P" --min-prefix 2 -o "$T/p3.sess" $F/tiny_train.pkl $F/tiny_test.pkl
check_true "pairs with shorter prefixes dropped; their unseen items take no id" \
    '[ "$(t test.items $T/p3.sess)" = "1 2 3 2 1 3 5" ] && [ "$(m n_ids $T/p3.sess)" = 5 ] && [ "$(m prep.count.short_test.pairs $T/p3.sess)" = 2 ]'
check "--unseen drop" 0 "$P" --unseen drop -o "$T/p2.sess" $F/tiny_train.pkl $F/tiny_test.pkl
check_true "pairs with unseen items dropped and counted" \
    '[ "$(m test.sessions $T/p2.sess)" = 3 ] && [ "$(m n_ids $T/p2.sess)" = 5 ]'

check "SR-GNN directory with train.txt" 0 "$P" --valid-frac 0 -o "$T/f.sess" $F/srgnn_full
check_err "train.txt checked against all_train_seq.txt" "its 6 pairs are all_train_seq.txt expanded"
check_true "the check is recorded" '[ "$(m prep.train_txt_check $T/f.sess)" = "equal (6 pairs)" ]'
mkdir -p "$T/wd" && cp $F/srgnn_full/* "$T/wd/" && cp $F/train_wrong.pkl "$T/wd/train.txt"
check "a train.txt that disagrees" 0 "$P" -o "$T/f3.sess" "$T/wd"
check_err "is reported with the pair" "differs from all_train_seq.txt expanded at pair 2"
check "train.txt alone" 0 "$P" -o "$T/f2.sess" $F/srgnn_pairs
check_true "gives one training sample per pair" \
    '[ "$(m train.samples $T/f2.sess)" = 6 ] && [ "$(m train.last_only $T/f2.sess)" = 1 ] && [ "$(m prep.train_source $T/f2.sess)" = train.txt ]'

# --- sbr-gen ---------------------------------------------------------------------------
check "gen writes a log" 0 "$G" -n 20000 -o "$T/g1.tsv"
"$G" -q -n 20000 -o "$T/g2.tsv"
"$G" -q -n 20000 -s 2 -o "$T/g3.tsv"
check_true "same seed, same bytes" 'cmp -s "$T/g1.tsv" "$T/g2.tsv"'
check_true "another seed, other bytes" '! cmp -s "$T/g1.tsv" "$T/g3.tsv"'
check_true "--clicks rows written" '[ "$(($(wc -l <"$T/g1.tsv") - 1))" = 20000 ]'
check_sh "--users 10: busy users get fresh ids" 0 \
    "[ \$($G -q -n 5000 --users 10 | tail -n +2 | cut -f4 | sort -u | wc -l) -gt 10 ]"
check "help says so" 0 "$G" --help
check_out "fresh ids in the help" "gets a fresh id instead"
check_out "and the cap of --p-follow and --p-cluster" "sum to at most 1"
check "--p-follow and the default --p-cluster over 1 is misuse" 2 "$G" --p-follow 0.9
check "--p-cluster and --p-follow over 1 is misuse" 2 "$G" --p-follow 0.5 --p-cluster 0.5
check_sh "--p-cluster 0.7: most moves stay in the cluster, another log" 0 \
    "! $G -q -n 20000 --p-follow 0.2 --p-cluster 0.7 | cmp -s - $T/g1.tsv"
# bench_prep.sh's log: at least 30 M rows. Each view brings ~5.2% addtocart/transaction
# rows, independently of the log's size: the ratio on 1 M views, scaled.
c=$(sed -n 's/^CLICKS=\${PREP_BENCH_CLICKS:-\([0-9]*\)}.*/\1/p' tests/bench/bench_prep.sh)
r=$("$G" -q -n 1000000 --layout kaggle | tail -n +2 | wc -l)
check_true "bench_prep.sh's log has >= 30 M rows (${c:-?} views, $r rows per 1 M)" \
    '[ -n "$c" ] && [ $((c * r / 1000000)) -ge 30000000 ]'
check_sh "gen | prep over stdin" 0 "$G -q -n 20000 | $P -o $T/g.sess -"
check_err "stdin sniffed as session-rec" "sessionrec layout"
check_true "synthetic sessions have users and times" '"$I" "$T/g.sess" | grep -q "train.users"'
check_sh "gen kaggle layout | prep" 0 "$G -q -n 20000 --layout kaggle | $P -o $T/gk.sess -"
check_err "kaggle layout sniffed" "kaggle layout"
check_sh "prep is deterministic" 0 "$P -q -l 0 -o $T/d1.sess $T/g1.tsv && $P -q -l 0 -o $T/d2.sess $T/g1.tsv && cmp <($I -t train.items $T/d1.sess) <($I -t train.items $T/d2.sess)"

# --- published recipes against an independent implementation --------------------------------
RAW=$DATA/raw
if [ ! -x "$PY" ]; then
    skip "recipe checks" "$PY absent"
elif [ ! -d "$RAW" ]; then
    skip "recipe checks" "$RAW absent (shared data not mounted)"
else
    check "diginetica sample prepares" 0 "$P" -l 0 --valid-frac 0 -o "$T/dg.sess" \
        "$RAW/diginetica-sample/sample_train-item-views.csv"
    check "diginetica sample equals the SR-GNN recipe" 0 "$PY" tests/cli/prep_recipe.py diginetica \
        "$RAW/diginetica-sample/sample_train-item-views.csv" "$T/dg.sess"
    check "yoochoose sample prepares" 0 "$P" -l 0 --valid-frac 0 -o "$T/yc.sess" \
        "$RAW/yoochoose-sample/sample_yoochoose.dat"
    check "yoochoose sample equals the recipe" 0 "$PY" tests/cli/prep_recipe.py yoochoose \
        "$RAW/yoochoose-sample/sample_yoochoose.dat" "$T/yc.sess"
    # yoochoose1_64 from raw clicks (on this sample 1/64 is 5 samples: 1/4 too)
    for fr in 1/64 1/4; do
        check "yoochoose sample --train-recent $fr prepares" 0 "$P" -l 0 --valid-frac 0 \
            --format yoochoose --train-recent $fr -o "$T/yc_r.sess" "$RAW/yoochoose-sample/sample_yoochoose.dat"
        check "yoochoose sample --train-recent $fr equals SR-GNN's cut" 0 "$PY" tests/cli/prep_recipe.py \
            yoochoose "$RAW/yoochoose-sample/sample_yoochoose.dat" "$T/yc_r.sess" $fr
    done
    check "session-rec TSV (.zst) prepares" 0 "$P" -l 0 --valid-frac 0 -o "$T/sr.sess" \
        "$RAW/yoochoose-sample/yoochoose-clicks-100k_train_full.txt.zst"
    if command -v zstd >/dev/null; then
        zstd -qdc "$RAW/yoochoose-sample/yoochoose-clicks-100k_train_full.txt.zst" >"$T/sr.tsv"
        check "session-rec TSV equals the recipe" 0 "$PY" tests/cli/prep_recipe.py sessionrec "$T/sr.tsv" "$T/sr.sess"
        check "session-rec TSV --train-recent 1/64 prepares" 0 "$P" -l 0 --valid-frac 0 --train-recent 1/64 \
            -o "$T/sr64.sess" "$T/sr.tsv"
        check "session-rec TSV --train-recent 1/64 equals SR-GNN's cut" 0 "$PY" tests/cli/prep_recipe.py \
            sessionrec "$T/sr.tsv" "$T/sr64.sess" 1/64
    else
        skip "session-rec recipe check" "zstd command absent"
    fi
    # RetailRocket sample rewritten into the Kaggle events.csv layout, with
    # other events, duplicated rows and shuffled order mixed in.
    awk -F'\t' 'BEGIN { print "timestamp,visitorid,event,itemid,transactionid" }
        NR > 1 { printf "%s000,%s,view,%s,\n", $1, $2, $3
                 if (NR % 11 == 0) printf "%s000,%s,view,%s,\n", $1, $2, $3
                 if (NR % 13 == 0) printf "%s500,%s,addtocart,%s,\n", $1, $2, $3
                 if (NR % 17 == 0) printf "%s900,%s,transaction,%s,%d\n", $1, $2, $3, NR }' \
        "$RAW/retailrocket-sample/sample_retailrocket.csv" >"$T/rr_sorted.csv"
    { head -1 "$T/rr_sorted.csv"; tail -n +2 "$T/rr_sorted.csv" | sort -t, -k4,4 -k2,2; } >"$T/rr.csv"
    check "retailrocket sample in Kaggle layout prepares" 0 "$P" -l 0 --valid-frac 0 -o "$T/rr.sess" "$T/rr.csv"
    check "Kaggle path equals the recipe" 0 "$PY" tests/cli/prep_recipe.py kaggle "$T/rr.csv" "$T/rr.sess"
    # a larger synthetic Kaggle log, shuffled
    "$G" -q -n 50000 --layout kaggle -s 7 | { read -r h; echo "$h"; sort -t, -k2,2n -k4,4; } >"$T/gk.csv"
    check "shuffled synthetic Kaggle log prepares" 0 "$P" -l 0 --valid-frac 0 -o "$T/gk2.sess" "$T/gk.csv"
    check "synthetic Kaggle log equals the recipe" 0 "$PY" tests/cli/prep_recipe.py kaggle "$T/gk.csv" "$T/gk2.sess"
fi

# --- the published benchmark pickles --------------------------------------------------------
for ds in retailrocket:433648:15132:36968 diginetica:719470:60858:43097 yoochoose1_64:369859:55898:17376; do
    IFS=: read -r name trs tes items <<<"$ds"
    if [ ! -d "$DATA/$name" ]; then
        skip "$name pickles" "$DATA/$name absent"
        continue
    fi
    check "$name pickles prepare" 0 "$P" --valid-frac 0 -o "$T/$name.sess" "$DATA/$name"
    check_true "$name: $trs train / $tes test samples over $items items" \
        '[ "$(m train.samples $T/$name.sess)" = '"$trs"' ] && [ "$(m test.samples $T/$name.sess)" = '"$tes"' ] && [ "$(m n_items $T/$name.sess)" = '"$items"' ]'
done
# Headers as users' files carry them, with no option: session-rec's with
# commas, and the snake_case names of RecBole-like or pandas exports (tab or
# comma, quoted or not) give the sessions the tab-separated session-rec file
# gives (the formats' protocol defaults differ: --test-days given).
"$B/sbr-gen" -q --clicks 4000 --items 80 --seed 3 > "$T/h.tsv"
check "session-rec header, tabs" 0 "$P" -q --test-days 2 -o "$T/h0.sbr" "$T/h.tsv"
want=$("$B/sbr-inspect" -t train.items "$T/h0.sbr" | md5sum)
hdr_case() { # NAME HEADER SEP
    { echo "$2"; tail -n +2 "$T/h.tsv" | tr '\t' "$3"; } > "$T/$1.csv"
    check "$1: prepared without column options" 0 "$P" -q --test-days 2 -o "$T/$1.sbr" "$T/$1.csv"
    check_true "$1: the same sessions" "[ \"\$('$B/sbr-inspect' -t train.items '$T/$1.sbr' | md5sum)\" = '$want' ]"
}
hdr_case sessionrec-comma "SessionId,ItemId,Time,UserId" ","
hdr_case snake-comma "session_id,item_id,timestamp,user_id" ","
hdr_case snake-tab "$(printf 'session_id\titem_id\ttimestamp\tuser_id')" "$(printf '\t')"
hdr_case snake-quoted '"session_id","item_id","timestamp","user_id"' ","
check_true "the comma session-rec file is read as session-rec" "[ \"\$('$B/sbr-inspect' -m prep.format '$T/sessionrec-comma.sbr')\" = sessionrec ]"
printf 'a,b,c\n1,2,3\n' > "$T/nohdr.csv"
check "a header without the usual names still needs options" 1 "$P" -q -o "$T/x.sbr" "$T/nohdr.csv"
check_err "and says so" "give --format"
t_end
