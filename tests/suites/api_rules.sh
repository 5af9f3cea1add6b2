#!/usr/bin/env bash
# Rules of the code that a compiler does not check, as part of make test:
# no function of the op API (common/nn/api.inc) or of the model layer
# (common/model, common/models) takes more than 12 parameters (pass a
# struct: the op API's weight and shape structs), and no model file is over
# 300 lines (a layer two models share goes to common/model/body/).
cd "$(dirname "$0")/../.." || exit 2
pass=0 fail=0 skip=0
if [ -x /usr/bin/python3 ]; then
    if out=$(/usr/bin/python3 tests/dev/max_params.py common/nn/api.inc common/model common/models); then
        echo "  ok   at most 12 parameters per function of the op API and the model layer"
        pass=$((pass + 1))
    else
        echo "  FAIL more than 12 parameters:"
        echo "$out" | sed 's/^/       /'
        fail=$((fail + 1))
    fi
else
    echo "  skip the parameter count: /usr/bin/python3 is absent"
    skip=$((skip + 1))
fi
long=$(wc -l common/models/*.c | awk '$2 != "total" && $1 > 300 { print $2 " (" $1 " lines)" }')
if [ -z "$long" ]; then
    echo "  ok   every model file within 300 lines"
    pass=$((pass + 1))
else
    echo "  FAIL model files over 300 lines: $long"
    fail=$((fail + 1))
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
