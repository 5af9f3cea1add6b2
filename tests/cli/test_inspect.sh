#!/usr/bin/env bash
# sbr-inspect and the container as seen from the command line.
. "$(dirname "$0")/lib.sh"
MK=$B/test-helpers/mksample

check "write a sample file" 0 "$MK" sbr.test "$T/s.sbr"
check "inspect it" 0 "$B/sbr-inspect" "$T/s.sbr"
check_out "shows the kind" "sbr.test"
check_out "shows a tensor with dtype and shape" "emb +F32 +\[2, 3\]"
check_out "shows provenance" "sbr.tool = mksample"
check_out "shows a summary" "items +I32 +\[9\] +min 1 max 5"
check "read from stdin" 0 bash -c "cat '$T/s.sbr' | '$B/sbr-inspect' -k -"
check_out "kind from stdin" "^-: sbr.test"
check "dump one tensor" 0 "$B/sbr-inspect" -t items "$T/s.sbr"
check_true "values one per line" "[ \"\$(tr '\n' ' ' < $T/out)\" = '1 2 3 2 4 5 1 5 2 ' ]"
check "dump a matrix" 0 "$B/sbr-inspect" -t emb "$T/s.sbr"
check_true "one row per line" "[ \"\$(wc -l < $T/out)\" = 2 ] && [ \"\$(head -1 $T/out | wc -w)\" = 3 ]"
check "one metadata value" 0 "$B/sbr-inspect" -m note "$T/s.sbr"
check_out "metadata value" "^written by tests/helpers/mksample.c$"
check "missing tensor is an error" 1 "$B/sbr-inspect" -t nope "$T/s.sbr"
check_err "names file and tensor" "s.sbr: no tensor \"nope\""
check "JSON output" 0 "$B/sbr-inspect" --json "$T/s.sbr"
check_out "JSON has tensors" '"name":"emb","dtype":"F32","shape":\[2,3\]'
check "plain (uncompressed) file" 0 "$MK" sbr.test "$T/p.sbr" 0
check "plain file is read" 0 "$B/sbr-inspect" "$T/p.sbr"
check_out "plain file said so" "plain"
check "the zstd CLI verifies our frame and checksum" 0 zstd -qt "$T/s.sbr"
check "zstd -dc gives a plain file we read" 0 bash -c "zstd -dc '$T/s.sbr' | '$B/sbr-inspect' --json - | grep -q '\"compressed\":false'"
check "file written to stdout" 0 bash -c "'$MK' sbr.test - > '$T/o.sbr' && '$B/sbr-inspect' -k '$T/o.sbr'"

# Refuse binary to a terminal (script gives the program a pseudo-terminal).
if command -v script >/dev/null; then
    check "binary to a terminal refused" 0 bash -c "script -qec '$MK sbr.test -' /dev/null > '$T/tty.txt' 2>&1; grep -q 'refusing to write binary data to a terminal' '$T/tty.txt'"
else
    skip "binary to a terminal refused" "script(1) not installed"
fi
# A full disk is an error, not a silent truncation.
if [ -w /dev/full ]; then
    check "write to a full disk fails" 1 bash -c "'$MK' sbr.test - > /dev/full"
    check_err "says the write failed" "write"
else
    skip "write to a full disk fails" "/dev/full not writable"
fi

# Devices and pipes are written in place, never replaced by a renamed file.
check "write to /dev/null" 0 "$MK" sbr.test /dev/null
check_true "/dev/null is still a character device" "[ -c /dev/null ]"
mkfifo "$T/fifo"
( cat "$T/fifo" > "$T/from-fifo" ) &
check "write to a named pipe" 0 "$MK" sbr.test "$T/fifo"
wait
check_true "the pipe is still a pipe" "[ -p '$T/fifo' ]"
check "what came through the pipe reads back" 0 "$B/sbr-inspect" -k "$T/from-fifo"

# Corrupt inputs: each a clean one-line error naming the file, exit 1.
head -c 100 "$T/s.sbr" > "$T/cut.sbr"
check "truncated file" 1 "$B/sbr-inspect" "$T/cut.sbr"
check_err "names the file" "^sbr-inspect: $T/cut.sbr: "
check_true "error is one line" "[ \$(wc -l < $T/err) = 1 ]"
printf 'not a tensor file at all' > "$T/junk.sbr"
check "junk file" 1 "$B/sbr-inspect" "$T/junk.sbr"
check_err "says what is wrong" "starts with text"
printf 'SessionId\tItemId\tTime\n1\t5\t100\n' > "$T/log.tsv"
check "a click log given to sbr-train" 1 "$B/sbr-train" -q -o "$T/m.sbr" "$T/log.tsv"
check_err "points to sbr-prep, naming the file" "^sbr-train: $T/log.tsv: not an sbr tensor file.*sbr-prep"
: > "$T/empty.sbr"
check "empty file" 1 "$B/sbr-inspect" "$T/empty.sbr"
check_err "too short" "too short"
check "missing file" 1 "$B/sbr-inspect" "$T/missing.sbr"
check_err "cannot open" "missing.sbr: cannot open"
check "a directory" 1 "$B/sbr-inspect" "$T"
check_err "is a directory" "is a directory"
check "no file is misuse" 2 "$B/sbr-inspect"

# Interop: numpy reads what the C code wrote (Debian's python3-numpy).
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    check "numpy reads the plain and the zstd file" 0 /usr/bin/python3 tests/interop/read_safetensors.py "$T/p.sbr" "$T/s.sbr"
    check_out "values equal" "^ok"
else
    skip "numpy interop" "python3-numpy is not installed (apt-get install python3-numpy)"
fi
t_end
