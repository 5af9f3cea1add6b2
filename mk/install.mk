# make install [PREFIX=/usr/local] [DESTDIR=]: the tools, their man pages
# (generated from --help by help2man), bash completion and python/sbr.py;
# make uninstall removes exactly what install put there.
PREFIX  ?= /usr/local
BINDIR  := $(DESTDIR)$(PREFIX)/bin
MANDIR  := $(DESTDIR)$(PREFIX)/share/man/man1
COMPDIR := $(DESTDIR)$(PREFIX)/share/bash-completion/completions
PYDIR   := $(DESTDIR)$(PREFIX)/share/sbr/python
MAN_PAGES  := $(TOOLS:%=$(BUILD)/man/%.1)
COMPLETION := $(BUILD)/completion/sbr

# help2man runs each tool for --help and --version; the name line is the
# usage's second line (what the tool does).
$(BUILD)/man/%.1: $(BUILD)/%
	@mkdir -p $(dir $@)
	@command -v help2man >/dev/null || { echo "sbr: help2man is not installed (make deps)" >&2; exit 1; }
	help2man -N --no-discard-stderr -s 1 -S sbr -n "$$($< --help | sed -n 2p | sed 's/[.:]$$//')" -o $@.tmp $< && mv $@.tmp $@

$(COMPLETION): $(TOOL_BINS) mk/completion.sh
	@mkdir -p $(dir $@)
	bash mk/completion.sh $(BUILD) $(TOOLS) > $@.tmp && mv $@.tmp $@

man: $(MAN_PAGES)

install: tools $(MAN_PAGES) $(COMPLETION)
	install -d $(BINDIR) $(MANDIR) $(COMPDIR) $(PYDIR)
	install -m 755 $(TOOL_BINS) $(BINDIR)/
	install -m 644 $(MAN_PAGES) $(MANDIR)/
	for t in $(TOOLS); do install -m 644 $(COMPLETION) $(COMPDIR)/$$t || exit 1; done
	install -m 644 python/sbr.py $(PYDIR)/
	@echo "sbr: installed $(words $(TOOLS)) tools under $(DESTDIR)$(PREFIX)"

uninstall:
	rm -f $(TOOLS:%=$(BINDIR)/%) $(TOOLS:%=$(MANDIR)/%.1) $(TOOLS:%=$(COMPDIR)/%) $(PYDIR)/sbr.py
	-rmdir $(PYDIR) $(DESTDIR)$(PREFIX)/share/sbr 2>/dev/null

.PHONY: man install uninstall
