#!/usr/bin/env bash
# sbr-graph: conventions, the three kinds on a hand-checked log, streaming,
# bad input (wrong kind, corrupted graph files, empty graph), determinism.
. "$(dirname "$0")/lib.sh"
P=$B/sbr-prep
GR=$B/sbr-graph
I=$B/sbr-inspect

t() { "$I" -t "$1" "$2" | tr '\n' ' ' | sed 's/ $//'; }
m() { "$I" -m "$1" "$2"; }

# A tiny session-rec log: sessions 1: a b c b, 2: b c, 3: d d e (all train).
# Items are numbered by first appearance: a=1 b=2 c=3 d=4 e=5.
printf 'SessionId\tItemId\tTime\n1\t10\t100\n1\t20\t101\n1\t30\t102\n1\t20\t103\n2\t20\t200\n2\t30\t201\n3\t40\t300\n3\t40\t301\n3\t50\t302\n' >"$T/log.tsv"
check "prepare the tiny log" 0 "$P" --format sessionrec --min-support 1 --min-len 2 \
    --test-days 0 --valid-frac 0 --no-dedup -o "$T/s.sess" "$T/log.tsv"

# --- conventions -----------------------------------------------------------------
check "help exits 0" 0 "$GR" --help
check_out "help shows usage" '^Usage: sbr-graph'
check_out "help names the kinds" 'transition'
check "version exits 0" 0 "$GR" --version
check "no input is misuse" 2 "$GR"
check_err "says what is missing" 'no SESSIONS file'
check "bad kind is misuse" 2 "$GR" --kind bigram "$T/s.sess"
check_err "lists the kinds" 'adjacent'
check "--topk without --kind window is misuse" 2 "$GR" --topk 3 "$T/s.sess"
check "--include train is misuse" 2 "$GR" --include train "$T/s.sess"
check "unknown option is misuse" 2 "$GR" --frobnicate "$T/s.sess"
check_sh "refuses a terminal as output" 1 "script -qec '$GR $T/s.sess' /dev/null"

# --- the three kinds ---------------------------------------------------------------
check "adjacent graph" 0 "$GR" -o "$T/a.g" "$T/s.sess"
check_err "summary: nodes, edges, isolated" '6 nodes \(5 items \+ padding\), 3 edges \(6 stored entries\), 0 isolated'
check_err "summary: dropped self-loop counted" 'dropped 1 self-loops'
check_err "summary: weight distribution" 'weight: min 1 median 1 .* max 3'
check_err "summary: degree distribution" 'degree \(items with an edge\)'
check_true "adjacent CSR" '[ "$(t offsets $T/a.g)" = "0 0 1 3 4 5 6" ] && [ "$(t neighbors $T/a.g)" = "2 1 3 2 5 4" ] && [ "$(t weights $T/a.g)" = "1 1 3 3 1 1" ]'
check_true "metadata: kind, nodes, edges, splits" \
    '[ "$(m graph.kind $T/a.g)" = adjacent ] && [ "$(m n_nodes $T/a.g)" = 6 ] && [ "$(m n_edges $T/a.g)" = 3 ] && [ "$(m graph.splits $T/a.g)" = train ] && [ "$(m graph.dropped_self_loops $T/a.g)" = 1 ]'
check_true "provenance names the input" '"$I" -m sbr.inputs $T/a.g | grep -q s.sess'
check "adjacent with self-loops" 0 "$GR" --self-loops -o "$T/as.g" "$T/s.sess"
check_true "self-loop 4-4 kept" '[ "$(t neighbors $T/as.g)" = "2 1 3 2 4 5 4" ]'
check "transition graph" 0 "$GR" --kind transition -o "$T/t.g" "$T/s.sess"
check_true "transition CSR: 1>2, 2>3 (2), 3>2, 4>5" \
    '[ "$(t offsets $T/t.g)" = "0 0 1 2 3 4 4" ] && [ "$(t neighbors $T/t.g)" = "2 3 2 5" ] && [ "$(t weights $T/t.g)" = "1 2 1 1" ] && [ "$(m graph.directed $T/t.g)" = 1 ]'
check "window graph, w 2, top 1" 0 "$GR" --kind window -w 2 -K 1 -o "$T/w.g" "$T/s.sess"
check_true "window rows: top-1 by weight, tie to the smaller id" \
    '[ "$(t neighbors $T/w.g)" = "2 3 2 5 4" ] && [ "$(t weights $T/w.g)" = "1 3 3 2 2" ] && [ "$(m graph.symmetric $T/w.g)" = 0 ]'
check_err "top-k drops are counted" 'dropped .* 3 entries beyond top-1'

# --- streaming and determinism -------------------------------------------------------
check_sh "stdin to stdout" 0 "cat $T/s.sess | $GR - -o - > $T/p.g"
check_true "same arrays as from a file" '[ "$(t neighbors $T/p.g)" = "$(t neighbors $T/a.g)" ] && [ "$(t weights $T/p.g)" = "$(t weights $T/a.g)" ]'
check "same run twice" 0 "$GR" -q -o "$T/a2.g" "$T/s.sess"
check_true "byte-identical output" 'cmp -s <("$GR" -q -o - "$T/s.sess" | zstd -dc) <("$GR" -q -o - "$T/s.sess" | zstd -dc)'
check "uncompressed output (-l 0)" 0 "$GR" -l 0 -o "$T/plain.g" "$T/s.sess"
check_true "plain file reads the same" '[ "$(t weights $T/plain.g)" = "$(t weights $T/a.g)" ]'

# --- bad input -------------------------------------------------------------------------
check "a graph where sessions are expected" 1 "$GR" -o "$T/x.g" "$T/a.g"
check_err "wrong kind named" 'a\.g.*sbr\.graph.*expected sbr\.sessions'
check_true "no output left behind" '[ ! -e "$T/x.g" ]'
check "missing file" 1 "$GR" -o "$T/x.g" "$T/nope.sess"
check_err "missing file named" 'nope\.sess'
head -c 100 "$T/s.sess" >"$T/cut.sess"
check "truncated sessions file" 1 "$GR" -o "$T/x.g" "$T/cut.sess"
check_err "truncated file named" 'cut\.sess'
# Sessions with no pair left: one session of a repeated item.
printf 'SessionId\tItemId\tTime\n1\t10\t100\n1\t10\t101\n' >"$T/rep.tsv"
check "prepare a log without pairs" 0 "$P" --format sessionrec --min-support 1 --min-len 2 \
    --test-days 0 --valid-frac 0 --no-dedup -o "$T/rep.sess" "$T/rep.tsv"
check "empty graph fails" 1 "$GR" -o "$T/x.g" "$T/rep.sess"
check_err "empty graph explained" 'rep\.sess: empty graph: no item pairs .*1 self-loops dropped'
check "with --self-loops it is not empty" 0 "$GR" --self-loops -o "$T/rep.g" "$T/rep.sess"

t_end
