#!/usr/bin/env bash
# sbr-prep's ProxySR protocol: --session-by day, --split A:B:C, valid and
# test filtered against the training items, --recipe proxysr; users kept in
# the sessions file; misuse; the raw samples of ../shared/data/raw.
. "$(dirname "$0")/lib.sh"
P=$B/sbr-prep
I=$B/sbr-inspect

# t NAME FILE: tensor values on one line; m KEY FILE: a metadata value
t() { "$I" -t "$1" "$2" | tr '\n' ' ' | sed 's/ $//'; }
m() { "$I" -m "$1" "$2"; }

# --- a Kaggle log written here: "user day hh:mm item" -> events.csv rows ------
DAY1=1577836800 # 2020-01-01T00:00:00Z
kaggle_log() {
    echo "timestamp,visitorid,event,itemid,transactionid"
    while read -r u d hm it ev; do
        [ -z "$u" ] && continue
        ts=$(( (DAY1 + (d - 1) * 86400 + 10#${hm%:*} * 3600 + 10#${hm#*:} * 60) * 1000 ))
        echo "$ts,$u,${ev:-view},$it,"
    done
}
# In date (last click) order, after the length filter (min 2 items):
#   u2 d1 [11 10 12]: one session by day, two by the 30-minute gap (8 hours apart)
#   u1 d1 [10 11 12]: started before u2's but ended after it, at 23:59
#   u1 d2 [13 10]: two minutes after u1's 23:59, across midnight
#   u4 [11 12], u8 [12 13], u9 [10 13 11], u10 [11 13], u11 [12 10]   -> 8 train
#   u5 [10 14 11]: 14 never in train                                    -> 1 valid
#   u6 [15 16 10]: left with [10], too short; u7 [13 17 12]: 17 unseen  -> 2 test
#   u3's single click: too short. u8's 12 twice at 10:59: a duplicate; u4's
#   addtocart row: not a view.
kaggle_log >"$T/days.csv" <<'EOF'
1 1 10:00 10
1 1 10:05 11
1 1 23:59 12
1 2 00:01 13
1 2 00:02 10
2 1 12:00 11
2 1 12:01 10
2 1 20:00 12
3 2 09:00 10
4 2 10:00 11
4 2 10:01 12
4 2 10:01 12 addtocart
8 2 10:59 12
8 2 10:59 12
8 2 11:00 13
9 2 11:58 10
9 2 11:59 13
9 2 12:00 11
10 3 06:59 11
10 3 07:00 13
11 3 07:29 12
11 3 07:30 10
5 3 08:00 10
5 3 08:01 14
5 3 08:02 11
6 4 09:00 15
6 4 09:01 16
6 4 09:02 10
7 4 10:00 13
7 4 10:01 17
7 4 10:02 12
EOF

check "--recipe proxysr on a Kaggle log" 0 "$P" -l 0 --recipe proxysr -o "$T/d.sess" "$T/days.csv"
check_err "says how the sessions were made" "sessions: each user's clicks of a day, UTC"
check_err "gives the split's sizes" "split 8:1:1 by count, sessions in order of their last click: 8 / 1 / 2"
check_err "counts the unseen valid click" "dropped unseen_valid_item\.clicks +1"
check_err "counts the unseen test clicks" "dropped unseen_test_item\.clicks +3"
check_err "counts the test session left too short" "dropped short_test\.sessions +1"
check_err "counts the single-click session" "dropped short\.sessions +1"
check_err "counts the duplicate" "dropped duplicate\.clicks +1"
check_err "counts the addtocart row" "dropped other_event\.rows +1"
check_err "train: 8 sessions, 19 clicks, 11 samples, all with a user" \
    "train +8 sessions +19 clicks +11 samples .* 8 with a user"
check_true "train: cut at midnight, in order of the last click" \
    '[ "$(t train.offsets $T/d.sess)" = "0 3 6 8 10 12 15 17 19" ] &&
     [ "$(t train.items $T/d.sess)" = "1 2 3 2 1 3 4 2 1 3 3 4 2 4 1 1 4 3 2" ]'
check_true "the catalogue is train's items, numbered by first appearance" \
    '[ "$(t items.original $T/d.sess)" = "-1 11 10 12 13" ] && [ "$(m n_items $T/d.sess)" = 4 ]'
check_true "valid and test without the unseen items" \
    '[ "$(t valid.items $T/d.sess)" = "2 1" ] && [ "$(t test.items $T/d.sess)" = "4 3" ]'
check_true "users kept in every split" \
    '[ "$(t train.users $T/d.sess)" = "2 1 1 4 8 9 10 11" ] && [ "$(t valid.users $T/d.sess)" = 5 ] &&
     [ "$(t test.users $T/d.sess)" = 7 ]'
check_true "metadata: the recipe, the sessions, the split and every count" \
    '[ "$(m prep.recipe $T/d.sess)" = proxysr ] && [ "$(m prep.sessions $T/d.sess)" = day ] &&
     [ "$(m prep.split $T/d.sess)" = 8:1:1 ] && [ "$(m prep.count.short_test.clicks $T/d.sess)" = 1 ] &&
     [ "$(m prep.count.split_test $T/d.sess)" = 2 ] && [ "$(m prep.min_len $T/d.sess)" = 2 ] &&
     [ "$(m prep.min_support $T/d.sess)" = 0 ] && [ "$(m min_prefix.source $T/d.sess)" = recipe ]'
check "sbr-inspect reads it" 0 "$I" "$T/d.sess"
check_out "and says how many sessions carry a user" \
    "sessions with a user: train 8 of 8, valid 1 of 1, test 1 of 1"

# The recipe is these options; options override it.
check "the same by single options" 0 "$P" -l 0 --session-by day --split 0.8:0.1:0.1 --pre-min-len 0 \
    --min-support 0 --min-len 2 --min-prefix 1 -o "$T/d2.sess" "$T/days.csv"
check_true "the same sessions" \
    '[ "$(t train.items $T/d2.sess)" = "$(t train.items $T/d.sess)" ] &&
     [ "$(t test.items $T/d2.sess)" = "$(t test.items $T/d.sess)" ] && [ "$(m prep.split $T/d2.sess)" = 0.8:0.1:0.1 ]'
check "--recipe proxysr --session-by gap" 0 "$P" --recipe proxysr --session-by gap -o "$T/g.sess" "$T/days.csv"
check_true "cuts u2's day in two (13 sessions built)" \
    '[ "$(m prep.count.sessions_built $T/g.sess)" = 13 ] && [ "$(m prep.sessions $T/g.sess)" = gap ]'
check "--recipe proxysr --gap 10h" 0 "$P" --recipe proxysr --gap 10h -o "$T/g2.sess" "$T/days.csv"
check_true "a gap given is the gap protocol" '[ "$(m prep.sessions $T/g2.sess)" = gap ]'
check "--recipe proxysr --test-days 1" 0 "$P" --recipe proxysr --test-days 1 -o "$T/td.sess" "$T/days.csv"
check_true "splits by date instead" \
    '[ "$(m prep.test_days $T/td.sess)" = 1 ] && ! "$I" -m prep.split "$T/td.sess" >/dev/null 2>&1'
check "--recipe proxysr --min-len 3" 0 "$P" --recipe proxysr --min-len 3 -o "$T/ml.sess" "$T/days.csv"
check_true "keeps only sessions of 3 items" '[ "$(m prep.count.short.sessions $T/ml.sess)" = 6 ]'
check "--split 9:0:1 (no valid split)" 0 "$P" --recipe proxysr --split 9:0:1 -o "$T/v0.sess" "$T/days.csv"
check_true "valid empty as asked" '[ "$(m valid.sessions $T/v0.sess)" = 0 ] && [ "$(m prep.count.split_train $T/v0.sess)" = 9 ]'

# A csv with session ids and users: --session-by day keys by user and
# ignores the ids; --recipe proxysr keeps them (the paper's Diginetica).
awk -F, 'NR == 1 { print "session_id,user_id,item_id,timestamp"; next }
         $3 == "view" { printf "%d,%s,%s,%d\n", NR, $2, $4, $1 / 1000 }' "$T/days.csv" >"$T/ids.csv"
check "csv with session ids: --session-by day" 0 "$P" -l 0 --session-by day --split 8:1:1 \
    --pre-min-len 0 --min-support 0 --min-len 2 -o "$T/i.sess" "$T/ids.csv"
check_true "gives the user-day sessions (less the duplicate: no --dedup on csv)" \
    '[ "$(m train.sessions $T/i.sess)" = 8 ] && [ "$(t valid.users $T/i.sess)" = 5 ] &&
     [ "$(m prep.sessions $T/i.sess)" = day ]'
check "csv with session ids: --recipe proxysr" 0 "$P" --recipe proxysr --min-support 0 --min-len 1 \
    -o "$T/i2.sess" "$T/ids.csv"
check_true "one session per row id, users kept" \
    '[ "$(m prep.sessions $T/i2.sess)" = ids ] && [ "$(m prep.count.sessions_built $T/i2.sess)" = 30 ] &&
     [ "$("$I" -t train.users $T/i2.sess | grep -c -- "^-1$")" = 0 ]'

# --user-col with no session column: the users are the sessions' in both protocols
for by in gap:13 day:12; do
    check "--user-col, --session-by ${by%:*}" 0 "$P" -l 0 --user-col user_id --item-col item_id \
        --time-col timestamp --session-by ${by%:*} --test-days 0 --valid-frac 0 --pre-min-len 0 \
        --min-support 0 --min-len 0 -o "$T/u.sess" "$T/ids.csv"
    check_true "${by#*:} sessions, each with its user" \
        '[ "$(m prep.count.sessions_built $T/u.sess)" = '"${by#*:}"' ] &&
         [ "$("$I" -t train.users $T/u.sess | sort -un | tr "\n" " ")" = "1 2 3 4 5 6 7 8 9 10 11 " ]'
done

# --- bad ratios -------------------------------------------------------------------
for bad in "8:1|not three parts" "8:1:1:1|not three parts" "8::1|'' is not a number" \
    "a:1:1|'a' is not a number" "8:-1:1|a part is negative" "0:0:0|the parts sum to zero" \
    "0:1:1|the train part is 0" "1.5.1:1:1|is not a number" "0.1234567:1:1|too many digits" \
    "999999999:0.5:1|too large"; do
    r=${bad%%|*} why=${bad#*|}
    check "--split $r is misuse" 2 "$P" --split "$r" -o "$T/x.sess" "$T/days.csv"
    check_err "one line says why" "^sbr-prep: --split: '$r'.*$why"
done
check "--split 98:1:1 leaves valid empty on these 11 sessions" 2 "$P" --recipe proxysr --split 98:1:1 \
    -o "$T/x.sess" "$T/days.csv"
check_err "names the file and the empty split" \
    "^sbr-prep: $T/days\.csv: --split 98:1:1: 11 sessions in date order give 10 / 0 / 1: the valid split would be empty"
check "--split 1:1:98 leaves train empty" 2 "$P" --split 1:1:98 -o "$T/x.sess" "$T/days.csv"
check_err "named" "the train split would be empty"
check_true "no output left behind" '[ ! -e "$T/x.sess" ]'

# --- misuse -------------------------------------------------------------------------
printf 'session_id,item_id,timestamp\n1,10,100\n1,11,200\n2,10,300\n2,11,400\n' >"$T/nouser.csv"
check "--session-by day on a log without users" 2 "$P" --session-by day -o "$T/x.sess" "$T/nouser.csv"
check_err "one line names the file and what is missing" \
    "^sbr-prep: $T/nouser\.csv: --session-by day cuts each user's clicks into days, and this csv log has no user column"
printf '1,2014-04-06T20:21:58.444Z,214717095,0\n1,2014-04-06T20:22:58.444Z,214717096,0\n' >"$T/yc.dat"
check "--session-by day on yoochoose" 2 "$P" --session-by day -o "$T/x.sess" "$T/yc.dat"
check_err "names the file and the layout" "yc\.dat: --session-by day .* this yoochoose log has no user column"
printf 'session_id;user_id;item_id;timeframe;eventdate\n1;5;10;1;2016-01-01\n1;5;11;2;2016-01-01\n' >"$T/dg.csv"
check "--session-by on diginetica" 2 "$P" --session-by day -o "$T/x.sess" "$T/dg.csv"
check_err "says why" "timeframe counts from each session's start"
check "--session-by week" 2 "$P" --session-by week -o "$T/x.sess" "$T/days.csv"
check "--gap with --session-by day" 2 "$P" --session-by day --gap 1h -o "$T/x.sess" "$T/days.csv"
check_err "is misuse" "--gap does not apply with --session-by day"
for o in "--test-days 3" "--valid-frac 0.2" "--train-recent 1/2"; do
    check "--split with $o" 2 "$P" --split 8:1:1 $o -o "$T/x.sess" "$T/days.csv"
    check_err "is misuse" "${o%% *} does not apply with --split"
done
check "--split with a TEST log" 2 "$P" --split 8:1:1 -o "$T/x.sess" "$T/days.csv" "$T/days.csv"
check_err "is misuse" "a TEST log does not apply with --split"
check "--recipe on the SR-GNN pickles" 2 "$P" --recipe proxysr -o "$T/x.sess" \
    tests/fixtures/prep/tiny_train.pkl tests/fixtures/prep/tiny_test.pkl
check "--recipe nope" 2 "$P" --recipe nope -o "$T/x.sess" "$T/days.csv"
check_err "lists the recipes" "not one of: none, proxysr"

# --- the raw samples ----------------------------------------------------------------
RAW=$DATA/raw
show() { sed -n 's/^sbr-prep: /         /p' "$T/err" | grep -v wrote; }
if [ ! -d "$RAW" ]; then
    skip "raw samples" "$RAW absent (shared data not mounted)"
    t_end
    exit
fi
RR=$RAW/retailrocket-sample/sample_retailrocket.csv
DG=$RAW/diginetica-sample/sample_train-item-views.csv
# RetailRocket's sample in its Kaggle events.csv layout (ms, views)
awk -F'\t' 'BEGIN { print "timestamp,visitorid,event,itemid,transactionid" }
            NR > 1 { printf "%s000,%s,view,%s,\n", $1, $2, $3 }' "$RR" >"$T/rr.csv"
check "retailrocket sample: --recipe proxysr" 0 "$P" --recipe proxysr -o "$T/rr.sess" "$T/rr.csv"
show
check_true "every session keeps its visitor" \
    '[ "$(m prep.sessions $T/rr.sess)" = day ] && ! "$I" -t train.users $T/rr.sess | grep -q -- "^-1$"'
# no filter and all in train: one session per visitor and UTC day, with
# that visitor as its user (counted here independently)
check "retailrocket sample: --session-by day, nothing dropped" 0 "$P" --recipe proxysr --split 1:0:0 \
    --min-len 0 --no-dedup -o "$T/rr1.sess" "$T/rr.csv"
want=$(awk -F'\t' 'NR > 1 { print $2, int($1 / 86400) }' "$RR" | sort -u | cut -d' ' -f1 | sort | md5sum)
check_true "users: one per visitor-day, as the raw file has them" \
    '[ "$("$I" -t train.users $T/rr1.sess | sort | md5sum)" = "$want" ]'
check "retailrocket sample: gap protocol (the default)" 0 "$P" -o "$T/rrg.sess" "$T/rr.csv"
check_true "users kept there too" \
    '[ "$(m prep.sessions $T/rrg.sess)" = gap ] && ! "$I" -t train.users $T/rrg.sess | grep -q -- "^-1$"'
check "retailrocket sample (its own csv): --session-by day" 0 "$P" --session-by day -o "$T/rrc.sess" "$RR"
check_true "csv user_id kept" '! "$I" -t train.users $T/rrc.sess | grep -q -- "^-1$"'

check "diginetica sample: --recipe proxysr" 0 "$P" --recipe proxysr -o "$T/dg.sess" "$DG"
show
check_true "sessions from the ids, items < 5 and sessions < 3 dropped" \
    '[ "$(m prep.sessions $T/dg.sess)" = ids ] && [ "$(m prep.min_support $T/dg.sess)" = 5 ] &&
     [ "$(m prep.min_len $T/dg.sess)" = 3 ]'
# no filter and all in train: user_id per session, NA as -1
check "diginetica sample: nothing dropped" 0 "$P" --recipe proxysr --split 1:0:0 --min-support 0 \
    --min-len 0 -o "$T/dg1.sess" "$DG"
want=$(awk -F';' 'NR > 1 && !($1 in u) { u[$1] = ($2 == "NA" ? -1 : $2) } NR > 1 && $2 != "NA" { u[$1] = $2 }
                  END { for (s in u) print u[s] }' "$DG" | sort | md5sum)
check_true "users: each session's user_id, NA anonymous" \
    '[ "$("$I" -t train.users $T/dg1.sess | sort | md5sum)" = "$want" ]'
check "diginetica sample: SR-GNN's protocol (the default)" 0 "$P" -o "$T/dgs.sess" "$DG"
check_true "users there too" '"$I" -t train.users $T/dgs.sess | grep -qv -- "^-1$"'
check "sbr-inspect on it" 0 "$I" "$T/dg.sess"
check_out "counts the sessions with a user" "sessions with a user: train [0-9]+ of [0-9]+"
t_end
