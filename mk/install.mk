# SPDX-License-Identifier: GPL-2.0-or-later
# make install: the library (shared, static, header, pkg-config), the tools, the man pages,
# the udev rules, the systemd unit, the Xen hook (when tools/block-dvm exists) and bash
# completion. DESTDIR stages the tree; PREFIX and the directories below place it.
# udev, systemd and Xen read only their own directories, whatever PREFIX says.

PREFIX        ?= /usr/local
SBINDIR       ?= $(PREFIX)/sbin
LIBDIR        ?= $(PREFIX)/lib
INCLUDEDIR    ?= $(PREFIX)/include
MANDIR        ?= $(PREFIX)/share/man
PKGCONFIGDIR  ?= $(LIBDIR)/pkgconfig
BASHCOMPDIR   ?= $(PREFIX)/share/bash-completion/completions
UDEVRULESDIR  ?= /lib/udev/rules.d
# programs the rules run (dvm-udev-id), beside udev's own
UDEVLIBDIR    ?= /lib/udev
SYSTEMDUNITDIR ?= /lib/systemd/system
XENSCRIPTDIR  ?= /etc/xen/scripts
STATEDIR      ?= /var/lib/dvm-vol
# the Python package (binding + Qubes pool driver) goes where Debian's python3 looks:
# /usr/lib/python3/dist-packages for PREFIX=/usr, else PREFIX/lib/python3.X/dist-packages
PYTHON        ?= /usr/bin/python3
PYVER         := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
PYTHONDIR     ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/python3/dist-packages,$(PREFIX)/lib/python$(PYVER)/dist-packages)
PYVERSION     := 0.1
PY_SRC        := $(wildcard driver/python/dvm_vol/*.py)
PY_DISTINFO   := $(PYTHONDIR)/dvm_vol-$(PYVERSION).dist-info

INSTALL_TOOLS := $(filter-out block-dvm,$(TOOLS))
MAN_PAGES     := $(wildcard docs/man/*.[1-8])
# @NAME@ in the .in templates: installed paths
SUBST := sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
             -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@STATEDIR@|$(STATEDIR)|g' \
             -e 's|@XENSCRIPTDIR@|$(XENSCRIPTDIR)|g' \
             -e 's|@UDEVLIBDIR@|$(UDEVLIBDIR)|g' -e 's|@PYVERSION@|$(PYVERSION)|g'

.PHONY: install check-install
install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(UDEVRULESDIR) $(DESTDIR)$(UDEVLIBDIR) $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(BASHCOMPDIR)
	install -m 0755 $(LIBSO) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sfn $(SONAME) $(DESTDIR)$(LIBDIR)/libdvm.so
	install -m 0644 $(LIBA) $(DESTDIR)$(LIBDIR)/libdvm.a
	install -m 0644 include/dvm.h $(DESTDIR)$(INCLUDEDIR)/dvm.h
	$(SUBST) driver/libdvm.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/libdvm.pc
	for t in $(INSTALL_TOOLS); do install -m 0755 $(BUILD)/$$t $(DESTDIR)$(SBINDIR)/$$t || exit 1; done
	install -m 0755 $(BUILD)/dvm-udev-id $(DESTDIR)$(UDEVLIBDIR)/dvm-udev-id
	if [ -d tools/block-dvm ]; then install -d $(DESTDIR)$(XENSCRIPTDIR) && \
	    install -m 0755 $(BUILD)/block-dvm $(DESTDIR)$(XENSCRIPTDIR)/block-dvm; fi
	for m in $(MAN_PAGES); do s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s && \
	    install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/ || exit 1; done
	for r in $(wildcard udev/*.rules.in); do b=$${r##*/}; $(SUBST) $$r > $(DESTDIR)$(UDEVRULESDIR)/$${b%.in} || exit 1; done
	for u in $(wildcard systemd/*.in); do b=$${u##*/}; $(SUBST) $$u > $(DESTDIR)$(SYSTEMDUNITDIR)/$${b%.in} || exit 1; done
	install -m 0644 tools/dvm-vol/completion.bash $(DESTDIR)$(BASHCOMPDIR)/dvm-vol
	install -d $(DESTDIR)$(PYTHONDIR)/dvm_vol $(DESTDIR)$(PY_DISTINFO)
	install -m 0644 $(PY_SRC) $(DESTDIR)$(PYTHONDIR)/dvm_vol/
	$(SUBST) driver/python/dvm_vol/_config.py.in > $(DESTDIR)$(PYTHONDIR)/dvm_vol/_config.py
	$(SUBST) driver/python/dist-info/METADATA.in > $(DESTDIR)$(PY_DISTINFO)/METADATA
	install -m 0644 driver/python/dist-info/entry_points.txt $(DESTDIR)$(PY_DISTINFO)/entry_points.txt
	echo make > $(DESTDIR)$(PY_DISTINFO)/INSTALLER
	cd $(DESTDIR)$(PYTHONDIR) && for f in dvm_vol/*.py $(notdir $(PY_DISTINFO))/*; do \
	    case $$f in */RECORD) continue ;; esac; \
	    printf '%s,sha256=%s,%s\n' "$$f" "$$($(PYTHON) -c 'import base64,hashlib,sys; print(base64.urlsafe_b64encode(hashlib.sha256(open(sys.argv[1],"rb").read()).digest()).rstrip(b"=").decode())' "$$f")" \
	        "$$(stat -c %s "$$f")" || exit 1; done > $(notdir $(PY_DISTINFO))/RECORD && \
	    echo "$(notdir $(PY_DISTINFO))/RECORD,," >> $(notdir $(PY_DISTINFO))/RECORD

check-install: all
	@tests/install-check.sh $(BUILD)
