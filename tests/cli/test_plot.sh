#!/usr/bin/env bash
# sbr-plot: training curves of real --log files and bars of .metrics files,
# rendered by gnuplot to SVG and PNG; its errors. The rendering checks skip
# where gnuplot is absent; the script and the errors run everywhere.
. "$(dirname "$0")/lib.sh"
P=$B/sbr-plot

check "data" 0 bash -c "'$B/sbr-gen' -q --clicks 5000 --items 120 --seed 4 | '$B/sbr-prep' -q - -o '$T/s.sbr'"
check "train with a log" 0 "$B/sbr-train" -q -m gru4rec -e 2 --log "$T/a.log" -o "$T/a.model" "$T/s.sbr"
check "a second run" 0 "$B/sbr-train" -q -m mean -e 2 --log "$T/b'x.log" -o "$T/b.model" "$T/s.sbr"
check "--log - writes the log to standard output" 0 bash -c "cd '$T' && '$(realpath "$B")/sbr-train' -q -m mean -e 2 --log - -o c.model s.sbr > c.log"
check_true "two JSON lines there, and no file named '-'" "[ \$(grep -c '^{\"epoch\":' '$T/c.log') = 2 ] && [ ! -e '$T/-' ]"
check "--log - with -o - is misuse" 2 "$B/sbr-train" -q -m mean -e 1 --log - -o - "$T/s.sbr"
check_err "says both would write there" "both write to standard output"
check "metrics" 0 bash -c "'$B/sbr-infer' -q -o - '$T/a.model' '$T/s.sbr' | '$B/sbr-score' -q -o '$T/a.metrics' - >/dev/null"

check "the script, without gnuplot" 0 "$P" --script -o - "$T/a.log" "$T/b'x.log"
check_out "holds each log's epochs inline" '^\$log1 << EOD'
check_true "two epochs of each" "[ \$(grep -c '^[12] ' '$T/out') = 4 ]"
check_out "a quote in a name is doubled" "'b''x'\\.' valid'"
check_out "three panels" "set multiplot layout 1,3"

if command -v gnuplot >/dev/null; then
    check "curves to SVG" 0 "$P" -q -t "two runs" -o "$T/c.svg" "$T/a.log" "$T/b'x.log"
    check_true "an SVG that names the runs" "grep -q '<svg' '$T/c.svg' && grep -q 'a valid' '$T/c.svg' && grep -q 'two runs' '$T/c.svg'"
    if /usr/bin/python3 -c 'import xml' 2>/dev/null; then
        check "the SVG is well-formed XML" 0 /usr/bin/python3 -c "import sys, xml.dom.minidom as m; m.parse(sys.argv[1])" "$T/c.svg"
    fi
    check "curves to PNG" 0 "$P" -q -o "$T/c.png" "$T/a.log"
    check_true "a PNG" "head -c 8 '$T/c.png' | od -An -tx1 | grep -q '89 50 4e 47 0d 0a 1a 0a'"
    check "--format png to stdout" 0 bash -c "'$P' -q --format png -o - '$T/a.log' > '$T/d.png'"
    check_true "PNG bytes on stdout" "head -c 4 '$T/d.png' | grep -q PNG"
    check "bars of .metrics files" 0 "$P" -q --bars -o "$T/r.svg" "$T/a.metrics" "$T/a.metrics"
    check_true "bars with the cutoff's names" "grep -q 'HR@20' '$T/r.svg' && grep -q 'MRR@20' '$T/r.svg'"
    check "a cutoff sbr-score did not compute" 1 "$P" -q --bars -k 7 -o "$T/r7.svg" "$T/a.metrics"
    check_err "names the file and the metric" "a.metrics: no HR@7"
    check_true "and leaves no picture" "[ ! -e '$T/r7.svg' ]"
else
    skip "rendering" "gnuplot is not installed (apt-get install gnuplot-nox)"
fi
check "gnuplot missing is a clear error" 1 env PATH=/nonexistent "$(realpath "$P")" -q -o "$T/n.svg" "$T/a.log"
check_err "says how to install it" "gnuplot is not installed"
check_true "no picture left behind" "[ ! -e '$T/n.svg' ]"

printf '{"epoch":1,"loss":2.5}\nnot json\n' > "$T/bad.log"
check "a malformed log line" 1 "$P" --script -o - "$T/bad.log"
check_err "names file and line" "bad.log:2"
: > "$T/empty.log"
check "a log without epochs" 1 "$P" --script -o - "$T/empty.log"
check_err "says there are no epochs" "empty.log: no epochs"
check "a model where a .metrics file is wanted" 1 "$P" --bars --script -o - "$T/a.model"
check_err "names the kinds" "a.model.*sbr.model.*sbr.metrics|a.model.*kind"
check "no input is misuse" 2 "$P"
check "a bad format is misuse" 2 "$P" --format gif "$T/a.log"
check "--help exits 0" 0 "$P" --help
check_out "help shows usage" "^Usage: sbr-plot"
t_end
