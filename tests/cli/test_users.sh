#!/usr/bin/env bash
# ProxySR's logged-in users (issue #22): --users 1 learns a bias per user who
# logs in, the model keeps those users, inference counts the sessions of
# users it does not know (ranked as anonymous); misuse on data without
# user ids; --user-fraction keeps a subset.
. "$(dirname "$0")/lib.sh"

"$B/sbr-gen" -q -n 6000 --items 300 --clusters 10 --user-interest 0.8 -o "$T/gen.tsv"
check "sessions with users" 0 "$B/sbr-prep" -q -o "$T/u.sbr" "$T/gen.tsv"
p=(-m proxysr -d 16 --proxies 8 -e 1 --max-steps 20 --threads 1 --no-test)
check "proxysr --users 1" 0 "$B/sbr-train" "${p[@]}" --users 1 -o "$T/u.model" "$T/u.sbr"
check_err "says how many users log in" "users: [0-9]+ log in \(user_fraction 1\)"
n=$("$B/sbr-inspect" -m n_users "$T/u.model")
check_true "the model keeps its users ($n)" \
    "[ '$n' -gt 10 ] && [ \"\$('$B/sbr-inspect' -t users.original '$T/u.model' | wc -l)\" = '$n' ]"
check "a quarter of them log in" 0 "$B/sbr-train" "${p[@]}" --users 1 --user-fraction 0.25 \
    -o "$T/q.model" "$T/u.sbr"
q=$("$B/sbr-inspect" -m n_users "$T/q.model")
check_true "fewer users ($q of $n)" "[ '$q' -gt 0 ] && [ '$q' -lt '$n' ]"
check "inference with the quarter" 0 "$B/sbr-infer" -o "$T/q.topk" "$T/q.model" "$T/u.sbr"
check_err "counts the users it does not know" \
    "users: test sessions of [0-9]+ known users, [1-9][0-9]* of users the model does not know"
check "and scores" 0 "$B/sbr-score" -q "$T/q.topk"

# the same clicks without the user column: no user ids
cut -f1-3 "$T/gen.tsv" >"$T/anon.tsv"
check "sessions without users" 0 "$B/sbr-prep" -q -o "$T/a.sbr" "$T/anon.tsv"
check "--users 1 on them: misuse" 2 "$B/sbr-train" "${p[@]}" --users 1 -o "$T/a.model" "$T/a.sbr"
check_err "names the file and why" "a\.sbr: --users 1, but its sessions carry no user ids"
check_true "no model written" "[ ! -e '$T/a.model' ]"
check "--user-fraction out of range" 2 "$B/sbr-train" "${p[@]}" --users 1 --user-fraction 2 \
    -o "$T/b.model" "$T/u.sbr"
t_end
