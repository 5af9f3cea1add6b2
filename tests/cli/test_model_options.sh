#!/usr/bin/env bash
# The options each model declares, as sbr-train takes them: --help lists the
# registry's models and who has which option; --help-model shows one
# model's options and presets; an option the model lacks or a value out of
# its range is misuse (exit 2); a preset applies under the options given;
# every resolved value lands in the model file, which sbr-infer reads back.
. "$(dirname "$0")/lib.sh"

check "a small synthetic dataset" 0 bash -c \
    "'$B/sbr-gen' -q --clicks 6000 --items 200 --clusters 8 --seed 3 | '$B/sbr-prep' -q - -o '$T/s.sbr'"
check "its window graph" 0 "$B/sbr-graph" -q --kind window --window 3 --topk 12 -o "$T/w.sbr" "$T/s.sbr"

check "--help" 0 "$B/sbr-train" --help
for m in gru4rec narm stamp srgnn gcegnn dmignn mean; do
    check_out "--help lists $m" "^ +$m +[A-Z]"
done
check_out "--help says who has --interests" "^ +--interests +dmignn$"
check "--help-model dmignn" 0 "$B/sbr-train" --help-model dmignn
check_out "its options with default and range" "^ +--interests N +3 +1\.\.8 "
check_out "its presets" "^ +tmall +the official Tmall setting"
check_out "what it needs" "needs --graph FILE"
check "--help-model of no model is misuse" 2 "$B/sbr-train" --help-model nosuch
check_err "it says so" "unknown model \"nosuch\""

common=(-q -e 1 --max-steps 2 --threads 1 --no-test)
check "an option the model lacks is misuse" 2 "$B/sbr-train" "${common[@]}" -m gcegnn \
    --interests 3 --graph "$T/w.sbr" -o "$T/x" "$T/s.sbr"
check_err "it names the option, the model and who has it" \
    "--interests is not an option of gcegnn \(it is of: dmignn\)"
check "--hidden for STAMP is misuse" 2 "$B/sbr-train" "${common[@]}" -m stamp --hidden 5 -o "$T/x" "$T/s.sbr"
check "a value out of range is misuse" 2 "$B/sbr-train" "${common[@]}" -m srgnn --layers 0 -o "$T/x" "$T/s.sbr"
check_err "it says the range" "--layers: 0 is out of range \(1\.\.64\)"
check "-d 0 is misuse" 2 "$B/sbr-train" "${common[@]}" -d 0 -o "$T/x" "$T/s.sbr"
check "a real where a whole number is wanted" 2 "$B/sbr-train" "${common[@]}" --hidden 2.5 -o "$T/x" "$T/s.sbr"
check "a choice not offered" 2 "$B/sbr-train" "${common[@]}" -m dmignn --interest-pool median \
    --graph "$T/w.sbr" -o "$T/x" "$T/s.sbr"
check_err "it lists the choices" "max\|sum"
check "an unknown preset" 2 "$B/sbr-train" "${common[@]}" -m dmignn --preset nosuch \
    --graph "$T/w.sbr" -o "$T/x" "$T/s.sbr"
check "a preset, and an option given over it" 0 "$B/sbr-train" "${common[@]}" -m dmignn \
    --preset tmall --interests 2 --graph "$T/w.sbr" -o "$T/d.model" "$T/s.sbr"
check "the model file says the preset" 0 "$B/sbr-inspect" -m preset "$T/d.model"
check_out "preset = tmall" "^tmall$"
check "the option given wins" 0 "$B/sbr-inspect" -m interests "$T/d.model"
check_out "interests = 2" "^2$"
check "the preset's other values" 0 "$B/sbr-inspect" -m dmi_beta "$T/d.model"
check_out "dmi_beta = 0.02" "^0\.02$"
check "sbr-infer reads it back" 0 "$B/sbr-infer" -q --threads 1 -o "$T/d.topk" "$T/d.model" "$T/s.sbr"
check "--max-len 0: the longest prefix, resolved in the file" 0 "$B/sbr-train" "${common[@]}" \
    --max-len 0 -o "$T/g.model" "$T/s.sbr"
check "max_len recorded" 0 "$B/sbr-inspect" -m max_len "$T/g.model"
check_true "as a length of at least 2" "[ \"\$(cat '$T/out')\" -ge 2 ]"
check "the walkthrough model trains (mean --proj linear)" 0 "$B/sbr-train" "${common[@]}" -m mean \
    --proj linear -o "$T/m.model" "$T/s.sbr"
check "and ranks" 0 "$B/sbr-infer" -q --threads 1 -o "$T/m.topk" "$T/m.model" "$T/s.sbr"
check "resuming with other options is refused" 1 "$B/sbr-train" -q -e 2 --threads 1 --no-test \
    -m dmignn --preset tmall --graph "$T/w.sbr" --resume "$T/d.model" -o "$T/x" "$T/s.sbr"
check_err "naming the option" "a checkpoint with interests 2; this run asks for 5"
check "resuming with another seed is refused" 1 "$B/sbr-train" -q -e 2 --threads 1 --no-test \
    -m dmignn --preset tmall --interests 2 -s 2 --graph "$T/w.sbr" --resume "$T/d.model" -o "$T/x" "$T/s.sbr"
check_err "naming the seeds" "a checkpoint of seed 1; this run asks for 2"
check "a batch too large for the model is refused" 1 "$B/sbr-train" -q -e 1 --threads 1 \
    --batch 1000000 --max-len 100000 -o "$T/x" "$T/s.sbr"
check_err "clearly" "too large"
t_end
