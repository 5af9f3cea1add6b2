#!/usr/bin/env bash
# python/sbr.py: the files the tools write, read back with numpy; HR / MRR
# recomputed from a top-K file equal sbr-score's; the TSV export maps ids
# back to the source's. Skipped where Debian's python3-numpy is absent.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
SBRPY=python/sbr.py
if ! "$PY" -c 'import numpy' 2>/dev/null; then
    skip "python/sbr.py" "python3-numpy is not installed (apt-get install python3-numpy)"
    t_end
    exit
fi

check "data" 0 bash -c "'$B/sbr-gen' -q --clicks 6000 --items 150 --seed 5 | '$B/sbr-prep' -q - -o '$T/s.sbr'"
check "train" 0 "$B/sbr-train" -q -m narm -e 1 --seed 3 -o "$T/m.model" "$T/s.sbr"
check "infer" 0 "$B/sbr-infer" -q -o "$T/t.topk" "$T/m.model" "$T/s.sbr"
check "score" 0 bash -c "'$B/sbr-score' --json '$T/t.topk' > '$T/score.json'"

# the module's metrics against sbr-score's, every cutoff and metric
check "python metrics" 0 "$PY" "$SBRPY" metrics "$T/t.topk"
check_true "HR, MRR, NDCG and Cov equal sbr-score's" "$PY - '$T/score.json' '$T/out' <<'PYEOF'
import json, sys
want = json.load(open(sys.argv[1]))
got = {}
for line in open(sys.argv[2]):
    f = line.split()
    got.update({f[i]: float(f[i + 1]) for i in range(0, len(f), 2)})
bad = [k for k in got if abs(got[k] - want[k]) > 1e-5]
assert len(got) == 12 and not bad, (got, bad)
PYEOF"

# the API: every kind of file the pipeline writes loads, with the values the tools report
check_true "model, sessions and top-K load as the tools see them" "$PY - '$T' '$B' <<'PYEOF'
import subprocess, sys
sys.path.insert(0, 'python')
import sbr
T, B = sys.argv[1], sys.argv[2]
inspect = lambda *a: subprocess.run([B + '/sbr-inspect', *a], capture_output=True, text=True, check=True).stdout
m = sbr.Model(T + '/m.model')
assert m.name == 'narm' and m.options['dim'] == inspect('-m', 'dim', T + '/m.model').strip()
E = m.item_embeddings()
s = sbr.Sessions(T + '/s.sbr')
assert E.shape == (s.n_items + 1, int(m.options['dim'])), E.shape
first = [float(x) for x in inspect('-t', 'param.items', T + '/m.model').split()[:5]]
assert [float('%.6g' % x) for x in E.reshape(-1)[:5]] == [float('%.6g' % x) for x in first]
t = sbr.TopK(T + '/t.topk')
assert len(list(s.samples('test'))) == len(t.targets) == int(s.meta['test.samples'])
assert sbr.read(T + '/t.topk').kind == 'sbr.topk'
PYEOF"

check "TSV export" 0 "$PY" "$SBRPY" tsv "$T/t.topk" "$T/s.sbr"
check_true "one header and one row per sample" \
    "[ \$(wc -l < '$T/out') = \$((\$('$B/sbr-inspect' -m test.samples '$T/s.sbr') + 1)) ]"
check_true "targets in the source's ids" "$PY - '$T' <<'PYEOF'
import csv, sys
sys.path.insert(0, 'python')
import sbr
T = sys.argv[1]
s, t = sbr.Sessions(T + '/s.sbr'), sbr.TopK(T + '/t.topk')
rows = list(csv.DictReader(open(T + '/out'), delimiter='\t'))
assert [int(r['target']) for r in rows] == s.original[t.targets].tolist()
assert [int(r['item1']) for r in rows] == s.original[t.items[:, 0]].tolist()
PYEOF"

check "a top-K file with another sessions file is refused" 1 bash -c \
    "'$B/sbr-gen' -q --clicks 3000 --items 90 --seed 9 | '$B/sbr-prep' -q - -o '$T/o.sbr' && $PY $SBRPY tsv '$T/t.topk' '$T/o.sbr'"
check_err "says the samples do not match" "t.topk: .*(samples|does not match)"
check "a model where a top-K file is wanted is refused" 1 "$PY" "$SBRPY" metrics "$T/m.model"
check_err "names the file and the kinds" "m.model: a sbr.model file, not sbr.topk"
printf 'SessionId,ItemId\n1,2\n' > "$T/log.csv"
check "a text file is refused" 1 "$PY" "$SBRPY" info "$T/log.csv"
check_err "with a hint to run sbr-prep" "log.csv: .*sbr-prep"
check "usage errors exit 2" 2 "$PY" "$SBRPY" tsv "$T/t.topk"
check "--help exits 0" 0 "$PY" "$SBRPY" --help
check_out "help shows the API" "sbr.Sessions"
t_end
