#!/usr/bin/env bash
# sbr-train, sbr-infer, sbr-score end to end on a small synthetic dataset:
# the model must clearly beat a popularity ranking, files must chain, bad
# input must give clear errors.
. "$(dirname "$0")/lib.sh"

check "generate and prepare a small synthetic dataset" 0 bash -c \
    "'$B/sbr-gen' -q --clicks 30000 --items 800 --clusters 20 --seed 3 | '$B/sbr-prep' -q - -o '$T/s.sbr'"
check "train GRU4Rec for 2 epochs (1 thread)" 0 "$B/sbr-train" -q -m gru4rec -e 2 --threads 1 \
    --log "$T/gru.log" -o "$T/gru.model" "$T/s.sbr"
check_true "the log has one JSON line per epoch" "[ \$(wc -l < '$T/gru.log') = 2 ] && grep -q '\"valid_HR@20\"' '$T/gru.log'"
check "the model file is kind sbr.model" 0 "$B/sbr-inspect" -k "$T/gru.model"
check_out "kind" "sbr.model"
check "infer on the test split" 0 "$B/sbr-infer" -q --threads 1 -o "$T/gru.topk" "$T/gru.model" "$T/s.sbr"
check "score it against the sessions file" 0 "$B/sbr-score" --json -s "$T/s.sbr" "$T/gru.topk"
hr=$(grep -o '"HR@20":[0-9.]*' "$T/out" | head -1 | cut -d: -f2)
# Popularity: the 20 most clicked training items for every sample.
pop=$(/usr/bin/env python3 - "$T" "$B" <<'PY' 2>/dev/null
import subprocess, sys, collections
t, b = sys.argv[1], sys.argv[2]
def tensor(name):
    out = subprocess.run([f"{b}/sbr-inspect", "-t", name, f"{t}/s.sbr"], capture_output=True, text=True, check=True).stdout
    return [int(x) for x in out.split()]
items = tensor("train.items")
top = {i for i, _ in collections.Counter(items).most_common(20)}
off, te = tensor("test.offsets"), tensor("test.items")
hits = n = 0
for s in range(len(off) - 1):
    sess = te[off[s]:off[s + 1]]
    for j in range(1, len(sess)):
        n += 1
        hits += sess[j] in top
print(f"{100 * hits / n:.2f}")
PY
)
check_true "GRU4Rec HR@20 ($hr) clearly beats popularity ($pop)" "awk -v a='$hr' -v b='$pop' 'BEGIN { exit !(a > b + 10) }'"
check_sh "infer | score over a pipe" 0 "'$B/sbr-infer' -q --threads 1 -o - '$T/gru.model' '$T/s.sbr' | '$B/sbr-score' -c 20 -"
check_out "pipe gives the table" "^HR "
check "exclude-seen lists" 0 "$B/sbr-infer" -q --threads 1 --exclude-seen -o "$T/gru-ns.topk" "$T/gru.model" "$T/s.sbr"
check "next-unseen scoring" 0 "$B/sbr-score" -q --next-unseen "$T/gru-ns.topk"

# Text mode: original ids in, original ids out, one line per line.
first=$("$B/sbr-inspect" -t items.original "$T/s.sbr" | sed -n '2p;3p' | tr '\n' ' ')
check_sh "text mode" 0 "printf '%s\n\n%s 999999999\n' '$first' '$first' | '$B/sbr-infer' --stdin-text -q --threads 1 -k 5 '$T/gru.model'"
check_true "text mode: one output line per input line" "[ \$(wc -l < '$T/out') = 3 ]"
check_true "text mode: five ids on the first line" "[ \$(sed -n 1p '$T/out' | wc -w) = 5 ]"
# The service goes on after a bad line: an error answer in its place (and a
# message on stderr); unknown ids are ranked as unseen items and counted.
check_sh "text mode: a bad line gets an error answer" 0 \
    "printf '%s\n12 x3\n-5\n%s\n' '$first' '$first' | '$B/sbr-infer' --stdin-text --threads 1 -k 5 '$T/gru.model'"
check_true "one answer per line" "[ \$(wc -l < '$T/out') = 4 ]"
check_true "the bad lines' answers are errors" "sed -n 2,3p '$T/out' | grep -c '^error: ' | grep -qx 2"
check_true "the service answers after them" "[ \$(sed -n 4p '$T/out' | wc -w) = 5 ]"
check_err "says which line and token" '-:2: "x3" is not an item id'
check_err "counts the lines at the end" "answered 4 lines \\(2 errors\\)"
check_sh "tsv: line, status, unknown ids, items, scores" 0 \
    "printf '%s 999999999\nx\n' '$first' | '$B/sbr-infer' --stdin-text -q --format tsv -k 5 '$T/gru.model'"
check_true "tsv: an ok row with one unknown id and five items and scores" \
    "sed -n 1p '$T/out' | awk -F'\t' '\$1 == 1 && \$2 == \"ok\" && \$3 == 1 && split(\$4, a, \" \") == 5 && split(\$5, b, \" \") == 5 { ok = 1 } END { exit !ok }'"
check_true "tsv: an error row" "sed -n 2p '$T/out' | grep -q '^2	error	'"
check_sh "jsonl" 0 "printf '%s\n-1\n' '$first' | '$B/sbr-infer' --stdin-text -q --format jsonl -k 5 '$T/gru.model'"
check_true "jsonl: items, scores, unknown; then an error object" \
    "sed -n 1p '$T/out' | grep -q '^{\"line\":1,\"items\":\\[[0-9,]*\\],\"scores\":\\[.*\\],\"unknown\":0}\$' && sed -n 2p '$T/out' | grep -q '^{\"line\":2,\"error\":'"
check "--format outside text mode is misuse" 2 "$B/sbr-infer" -q --format tsv -o "$T/x.topk" "$T/gru.model" "$T/s.sbr"

# The service on a loopback TCP port (docs/TRAINING.md's recipe, socat):
# 10,000 requests, 1% malformed, 1% with an unknown id, one answer each, in
# order, the service still up at the end.
if command -v socat >/dev/null; then
    port=$((20000 + RANDOM % 20000))
    socat TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork \
        EXEC:"'$B/sbr-infer' --stdin-text -q --format tsv -k 5 '$T/gru.model'" 2>"$T/socat.err" &
    srv=$!
    for i in $(seq 50); do socat -u /dev/null TCP:127.0.0.1:$port 2>/dev/null && break; sleep 0.1; done
    awk -v f="$first" 'BEGIN { for (i = 1; i <= 10000; i++)
        print (i % 100 == 0 ? "bad" i : i % 100 == 50 ? f " 999999999" : f) }' >"$T/req"
    check_sh "10,000 requests over TCP" 0 "socat -t 30 - TCP:127.0.0.1:$port <'$T/req'"
    check_true "10,000 answers, in order" \
        "[ \$(wc -l < '$T/out') = 10000 ] && awk -F'\t' '\$1 != NR { exit 1 }' '$T/out'"
    check_true "100 error answers, 100 with an unknown id" \
        "[ \$(grep -c '	error	' '$T/out') = 100 ] && [ \$(awk -F'\t' '\$2 == \"ok\" && \$3 == 1' '$T/out' | wc -l) = 100 ]"
    check_true "the service is still up" "kill -0 $srv && echo '$first' | socat -t 10 - TCP:127.0.0.1:$port | grep -q ok"
    kill $srv 2>/dev/null
    wait $srv 2>/dev/null
else
    skip "the service over TCP" "socat is not installed (make deps)"
fi

# CLIP-SBR prompts: graph -> clusters -> train with --clusters.
check "graph and clusters" 0 bash -c "'$B/sbr-graph' -q --kind adjacent -o - '$T/s.sbr' | '$B/sbr-cluster' -q - -o '$T/c.sbr'"
check "train with CLIP prompts" 0 "$B/sbr-train" -q -m gru4rec -e 1 --threads 1 --clusters "$T/c.sbr" -o "$T/clip.model" "$T/s.sbr"
check "infer with CLIP prompts" 0 "$B/sbr-infer" -q --threads 1 -o "$T/clip.topk" "$T/clip.model" "$T/s.sbr"

# Resume: 2 epochs straight = 1 epoch, checkpoint, resume for the 2nd.
check "train 2 epochs with a checkpoint" 0 "$B/sbr-train" -q -e 2 --patience 0 --threads 1 --no-test --checkpoint "$T/full.ckpt" -o "$T/a.model" "$T/s.sbr"
check "train 1 epoch with a checkpoint" 0 "$B/sbr-train" -q -e 1 --patience 0 --threads 1 --no-test --checkpoint "$T/half.ckpt" -o "$T/h.model" "$T/s.sbr"
check "resume for the 2nd epoch" 0 "$B/sbr-train" -q -e 2 --patience 0 --threads 1 --no-test --resume "$T/half.ckpt" --checkpoint "$T/half.ckpt" -o "$T/b.model" "$T/s.sbr"
check_true "resumed parameters are bit-identical" "cmp -s <('$B/sbr-inspect' -t param.items '$T/full.ckpt') <('$B/sbr-inspect' -t param.items '$T/half.ckpt')"
check "resume a checkpoint of another model" 1 "$B/sbr-train" -q -m narm -e 2 --threads 1 --no-test --resume "$T/half.ckpt" -o "$T/c.model" "$T/s.sbr"
check_err "says it is another model's" "half.ckpt: a checkpoint of another model"

# Batches built on a second thread (the GPU's default, SBR_PREFETCH=1 here on
# the CPU) are the same batches: the same losses and parameters, bit for bit,
# for a model with session graphs (SR-GNN) and one with GCE-GNN's extra inputs.
check "window graph for GCE-GNN" 0 "$B/sbr-graph" -q --kind window -o "$T/w.sbr" "$T/s.sbr"
for m in srgnn gcegnn; do
    g=(); [ $m = gcegnn ] && g=(--graph "$T/w.sbr")
    for pf in 0 1; do
        check "$m, SBR_PREFETCH=$pf" 0 env SBR_PREFETCH=$pf "$B/sbr-train" -q -m $m -e 2 \
            --max-steps 150 --threads 1 "${g[@]}" --log "$T/pf$pf.log" -o "$T/pf$pf.model" "$T/s.sbr"
    done
    check_true "$m: the batch thread changes no bit" "diff <(sed -E 's/\"seconds\":[^,]*,\"samples_per_s\":[^,]*//' '$T/pf0.log') <(sed -E 's/\"seconds\":[^,]*,\"samples_per_s\":[^,]*//' '$T/pf1.log') >/dev/null && cmp -s <('$B/sbr-inspect' -t param.items '$T/pf0.model') <('$B/sbr-inspect' -t param.items '$T/pf1.model')"
done

# Bad input.
check "a model where sessions are expected" 1 "$B/sbr-train" -q -o "$T/x.model" "$T/gru.model"
check_true "names the file once" "[ \$(grep -o 'gru.model' '$T/err' | wc -l) = 1 ]"
check_err "says which kind" "is a sbr.model file, expected sbr.sessions"
check "sessions where the model is expected" 1 "$B/sbr-infer" -q -o "$T/x.topk" "$T/s.sbr" "$T/s.sbr"
check_err "names the file" "s.sbr: is a sbr.sessions file, expected sbr.model"
check "sbr-infer: a model where sessions are expected" 1 "$B/sbr-infer" -q -o "$T/x.topk" "$T/gru.model" "$T/gru.model"
check_true "names the file once" "[ \$(grep -o 'gru.model' '$T/err' | wc -l) = 1 ]"
check "sbr-score -s: a model where sessions are expected" 1 "$B/sbr-score" -s "$T/gru.model" "$T/gru.topk"
check_true "names the file once" "[ \$(grep -o 'gru.model' '$T/err' | wc -l) = 1 ]"
check "K larger than the catalogue" 1 "$B/sbr-infer" -q -k 100000 -o "$T/x.topk" "$T/gru.model" "$T/s.sbr"
check_err "says so" "larger than the catalogue"
check "another dataset's sessions" 0 bash -c "'$B/sbr-gen' -q --clicks 20000 --items 500 --seed 9 | '$B/sbr-prep' -q - -o '$T/other.sbr'"
check "a model with another dataset" 1 "$B/sbr-infer" -q -o "$T/x.topk" "$T/gru.model" "$T/other.sbr"
check_err "not the data it was trained on" "catalogue items|numbers its items"
check "top-K rows that do not match the targets" 1 "$B/sbr-score" -q -s "$T/other.sbr" "$T/gru.topk"
check_err "says the rows differ" "rows|target"
# Stopping before --epochs: a time limit, and SIGUSR1; the model is still written.
check "a time limit stops after the first epoch" 0 "$B/sbr-train" -e 5 --patience 0 --threads 1 --no-test \
    --time-limit 0.001s --log "$T/tl.log" -o "$T/tl.model" "$T/s.sbr"
check_err "says so" "time limit: stopping after epoch 1"
check_true "one epoch in the log" "[ \$(wc -l < '$T/tl.log') = 1 ]"
check "the model says what stopped it" 0 "$B/sbr-inspect" -m stopped_by "$T/tl.model"
check_out "stopped_by" "^time limit$"
"$B/sbr-train" -q -e 100000 --patience 0 --threads 1 --no-test --log "$T/u.log" -o "$T/u.model" \
    "$T/s.sbr" 2>"$T/u.err" &
pid=$!
for _ in $(seq 600); do [ -s "$T/u.log" ] && break; sleep 0.1; done
kill -USR1 "$pid"
wait "$pid"
check_true "SIGUSR1 stops the run after the epoch in progress, exit 0" "[ $? = 0 ] && [ \$(wc -l < '$T/u.log') -lt 100 ]"
check "and the model is written" 0 "$B/sbr-inspect" -m stopped_by "$T/u.model"
check_out "stopped_by" "^SIGUSR1$"
check "no output is misuse" 2 "$B/sbr-train" "$T/s.sbr"
check "unknown model is misuse" 2 "$B/sbr-train" -m nosuch -o "$T/x" "$T/s.sbr"
check "clusters of another dataset" 1 bash -c "'$B/sbr-graph' -q -o - '$T/other.sbr' | '$B/sbr-cluster' -q - -o '$T/oc.sbr' && '$B/sbr-train' -q -e 1 --clusters '$T/oc.sbr' -o '$T/x' '$T/s.sbr'"
check_err "says the clusters do not fit" "another sessions file"
t_end
