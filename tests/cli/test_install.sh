#!/usr/bin/env bash
# make install / uninstall into a temporary prefix: the installed tools run,
# their man pages render, bash completes their options and sbr-train's
# models, and uninstall leaves the prefix as it found it.
. "$(dirname "$0")/lib.sh"
if ! command -v help2man >/dev/null; then
    skip "make install" "help2man is not installed (apt-get install help2man)"
    t_end
    exit
fi
P=$T/prefix
check "make install PREFIX=..." 0 make --no-print-directory install PREFIX="$P"
check "the installed sbr-train runs" 0 "$P/bin/sbr-train" --help
check_out "and prints its usage" "^Usage: sbr-train"
check_true "every tool is installed" "[ \$(ls '$P/bin' | grep -c '^sbr-') = \$(ls tools | grep -c '^sbr-') ]"
if command -v man >/dev/null; then
    check "man sbr-train" 0 env MANPATH="$P/share/man" MANPAGER=cat man sbr-train
    check_out "renders its options" "--model"
    check_out "with its name line" "Train a next-item model"
else
    check_true "a man page per tool" "[ -s '$P/share/man/man1/sbr-train.1' ]"
fi
check_true "bash completes sbr-train's options" "bash -c '. \"$P/share/bash-completion/completions/sbr-train\"; COMP_WORDS=(sbr-train --hel); COMP_CWORD=1; _sbr_complete; [ \"\${COMPREPLY[*]}\" = \"--help --help-model\" ]'"
check_true "and its models after -m" "bash -c '. \"$P/share/bash-completion/completions/sbr-train\"; COMP_WORDS=(sbr-train -m gc); COMP_CWORD=2; _sbr_complete; [[ \" \${COMPREPLY[*]} \" == *\" gcegnn \"* ]]'"
check_true "python/sbr.py is installed" "[ -s '$P/share/sbr/python/sbr.py' ]"
check "make uninstall PREFIX=..." 0 make --no-print-directory uninstall PREFIX="$P"
check_true "leaves no file behind" "[ -z \"\$(find '$P' -type f)\" ]"
t_end
