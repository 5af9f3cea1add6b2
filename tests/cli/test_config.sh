#!/usr/bin/env bash
# sbr-train --config FILE: key = value lines under the long option names, the
# command line overriding them, the expanded options and the file in the
# model's provenance; its errors. make pipeline with CONFIG and with INPUT
# (a user's own log under a name of their choosing).
. "$(dirname "$0")/lib.sh"
check "data" 0 bash -c "'$B/sbr-gen' -q --clicks 4000 --items 80 --seed 2 | tee '$T/log.tsv' | '$B/sbr-prep' -q - -o '$T/s.sbr'"
cat > "$T/a.conf" <<'CONF'
# what to train
model = narm
epochs = 2        # trailing comments too
seed = "7"
max_len = 20      # a model option, in the metadata's spelling
no-test
CONF
check "train from a config file" 0 "$B/sbr-train" -q --config "$T/a.conf" -o "$T/a.model" "$T/s.sbr"
check_true "its options took effect" "[ \"\$('$B/sbr-inspect' -m model '$T/a.model')\" = narm ] && [ \"\$('$B/sbr-inspect' -m epochs_done '$T/a.model')\" = 2 ] && [ \"\$('$B/sbr-inspect' -m max_len '$T/a.model')\" = 20 ] && [ \"\$('$B/sbr-inspect' -m seed '$T/a.model')\" = 7 ]"
check_true "the provenance holds the expanded options and the file" "'$B/sbr-inspect' -m sbr.args '$T/a.model' | grep -q '\"--model\",\"narm\"' && '$B/sbr-inspect' -m sbr.inputs '$T/a.model' | grep -q 'a.conf'"
check "options after --config override the file's" 0 "$B/sbr-train" -q --config "$T/a.conf" --epochs 1 --seed 9 -o "$T/b.model" "$T/s.sbr"
check_true "epochs and seed from the command line" "[ \"\$('$B/sbr-inspect' -m epochs_done '$T/b.model')\" = 1 ] && [ \"\$('$B/sbr-inspect' -m seed '$T/b.model')\" = 9 ]"
check "--config=FILE too, overriding the options before it" 0 "$B/sbr-train" -q --epochs 1 --config="$T/a.conf" -o "$T/c.model" "$T/s.sbr"
check_true "the file's epochs won" "[ \"\$('$B/sbr-inspect' -m epochs_done '$T/c.model')\" = 2 ]"
echo "epochs = 1" > "$T/same.conf"
check "the same options by file and by hand give the same model" 0 "$B/sbr-train" -q -m mean --config "$T/same.conf" -o "$T/d1.model" "$T/s.sbr"
check "(by hand)" 0 "$B/sbr-train" -q -m mean --epochs 1 -o "$T/d2.model" "$T/s.sbr"
check_true "bit for bit in the parameters" "cmp -s <('$B/sbr-inspect' -t param.items '$T/d1.model') <('$B/sbr-inspect' -t param.items '$T/d2.model')"

echo "epoch = 3" > "$T/bad1.conf"
check "an unknown key is misuse" 2 "$B/sbr-train" --config "$T/bad1.conf" -o "$T/x.model" "$T/s.sbr"
check_err "naming the file and line" "bad1.conf:1: unknown option 'epoch'"
printf '# ok\nadamw = yes\n' > "$T/bad2.conf"
check "a flag given a value is misuse" 2 "$B/sbr-train" --config "$T/bad2.conf" -o "$T/x.model" "$T/s.sbr"
check_err "says to write it alone" "bad2.conf:2: 'adamw' is a flag"
echo "lr =" > "$T/bad3.conf"
check "an option without its value is misuse" 2 "$B/sbr-train" --config "$T/bad3.conf" -o "$T/x.model" "$T/s.sbr"
check_err "says it needs one" "bad3.conf:1: 'lr' needs a value"
check "a missing file is an error" 1 "$B/sbr-train" --config "$T/none.conf" -o "$T/x.model" "$T/s.sbr"
check_err "naming it" "none.conf: cannot read the config file"
check "--config without a file is misuse" 2 "$B/sbr-train" -o "$T/x.model" "$T/s.sbr" --config

# make pipeline: a user's own log (INPUT) and a config file (CONFIG)
echo "epochs = 1" > "$T/p.conf"
check "make pipeline DATASET=mylog INPUT=... CONFIG=..." 0 make --no-print-directory pipeline \
    DATASET=mylog INPUT="$T/log.tsv" PREP_ARGS="--test-days 2" CONFIG="$T/p.conf" MODEL=mean WORK="$T/w"
check_true "prepared with PREP_ARGS, trained one epoch" "[ \"\$('$B/sbr-inspect' -m prep.test_days '$T/w/sessions.sbr')\" = 2 ] && [ \"\$('$B/sbr-inspect' -m epochs_done '$T/w/mean.model')\" = 1 ]"
check "INPUT that does not exist" 2 make --no-print-directory pipeline DATASET=mylog INPUT="$T/nope.tsv" WORK="$T/w2"
check_err "says so" "INPUT=.*nope.tsv not found"
t_end
