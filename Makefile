# SPDX-License-Identifier: GPL-2.0-or-later
# dvm-vol build. GNU make + pkg-config. Objects go under $(BUILD).
#   make               library, tools
#   make check         unit tier (host) + python tier (host) + vm tier (real device-mapper; in a VM when the host has none)
#                      + xen tier (nested Xen 4.17 in QEMU/TCG: the hook, attach/detach, domUs)
#   make demo          the main job end to end
#   make install       DESTDIR, PREFIX (mk/install.mk)
#   make CC=clang      the same with clang; make SAN=1 BUILD=build-san  ASan/UBSan build
#   make fuzz          the libFuzzer targets (tests/fuzz/), FUZZ_SECONDS each; check runs 30 s each

BUILD   ?= build
CC      ?= gcc
PKGS    := devmapper sqlite3 blkid
# the Xen hand-off: driver/xen/xen_light.c (libxenlight), driver/xen/xen_store.c (libxenstore)
PKGS    += xenlight xenstore
# Read when make parses this file: on a machine without the -dev packages they answer nothing,
# so the targets that install them (check, demo, bench) run tests/deps.sh and only then a
# sub-make, which parses these again; and every build checks them first (pkg-check below).
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) json-c 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# the rbd backend: librbd and librados are not linked; driver/ceph/ceph_lib.c loads them on
# first use, so that no dvm-vol or block-dvm run pays their start-up (~80 ms) without rbd.
JSON_LIBS  := $(shell pkg-config --libs json-c 2>/dev/null)
CRIT_LIBS  := $(shell pkg-config --libs criterion 2>/dev/null)
# dvm-inspect is the only FUSE user
FUSE_CFLAGS := $(shell pkg-config --cflags fuse3 2>/dev/null)
EXTRA_LIBS_dvm-inspect := $(shell pkg-config --libs fuse3 2>/dev/null)
# the packages a build links: PKG_MISSING names those that pkg-config does not know
PKG_NEEDED  := $(PKGS) json-c fuse3
PKG_MISSING := $(shell for p in $(PKG_NEEDED); do pkg-config --exists $$p 2>/dev/null || echo $$p; done)
CRIT_MISSING := $(shell pkg-config --exists criterion 2>/dev/null || echo criterion)

WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE -fPIC -fvisibility=hidden $(WARN) \
              -Iinclude -Idriver -Itests/lib $(PKG_CFLAGS) $(CFLAGS)
ifeq ($(SAN),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDSAN      := -fsanitize=address,undefined
endif
# FAULT=1: the test build that can stop dead at named steps (crash-walk tests)
ifeq ($(FAULT),1)
ALL_CFLAGS += -DDVM_FAULT_INJECTION
endif

DRIVER_SRC := $(sort $(wildcard driver/*/*.c))
DRIVER_OBJ := $(DRIVER_SRC:%.c=$(BUILD)/%.o)
# dvm-udev-id runs on every udev event of our devices: libc alone, statically (rule below)
LIBC_TOOLS := dvm-udev-id
TOOLS      := $(filter-out $(LIBC_TOOLS),$(notdir $(wildcard tools/*)))
TOOL_BINS  := $(TOOLS:%=$(BUILD)/%)
UNIT_SRC   := $(sort $(wildcard tests/unit/*/test_*.c))
UNIT_BINS  := $(UNIT_SRC:%.c=$(BUILD)/%)
VM_SRC     := $(sort $(wildcard tests/vm/test_*.c))
VM_BINS    := $(VM_SRC:%.c=$(BUILD)/%)
TESTLIB_SRC := $(sort $(wildcard tests/lib/*.c))
TESTLIB_OBJ := $(TESTLIB_SRC:%.c=$(BUILD)/%.o)
# bench/*.c: the benchmark drivers of make bench (bench/run.sh)
BENCH_SRC  := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRC:%.c=$(BUILD)/%)

SONAME := libdvm.so.0
LIBA   := $(BUILD)/libdvm.a
LIBSO  := $(BUILD)/$(SONAME)

.PHONY: all tests check check-all check-unit check-layering check-python check-vm check-xen check-valgrind check-san check-clang demo demo-run bench bench-run deps clean pkg-check pkg-check-tests fuzz fuzz-build fuzz-check
all: $(LIBA) $(LIBSO) $(TOOL_BINS) $(LIBC_TOOLS:%=$(BUILD)/%)
tests: pkg-check-tests all $(UNIT_BINS) $(VM_BINS) $(BENCH_BINS)

# A build without its libraries would compile and then fail at the link, or link a library
# without them: say which package is missing instead, before anything is built.
pkg-check:
	@if [ -n "$(strip $(PKG_MISSING))" ]; then \
	    echo "build: pkg-config does not know $(strip $(PKG_MISSING)): run 'make deps' (tests/deps.sh) as root first" >&2; exit 1; fi
pkg-check-tests: pkg-check
	@if [ -n "$(strip $(CRIT_MISSING))" ]; then \
	    echo "build: pkg-config does not know criterion: run 'make deps' (tests/deps.sh) as root first" >&2; exit 1; fi

$(BUILD)/%.o: %.c | pkg-check
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBA): $(DRIVER_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(LIBSO): $(DRIVER_OBJ) driver/libdvm.sym
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=driver/libdvm.sym -Wl,--no-undefined \
	    $(LDSAN) -o $@ $(DRIVER_OBJ) $(PKG_LIBS)

# Each tool is a directory of sources, linked statically against the library so it runs from
# the build tree (and from the 9p share in the test VM) without LD_LIBRARY_PATH.
.SECONDEXPANSION:
tool_objs = $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/$(1)/*.c))
$(TOOL_BINS): $(BUILD)/%: $$(call tool_objs,$$*) $(LIBA)
	$(CC) $(LDSAN) -o $@ $(filter %.o,$^) $(LIBA) $(PKG_LIBS) $(JSON_LIBS) $(EXTRA_LIBS_$*)

$(BUILD)/tools/dvm-inspect/%.o: ALL_CFLAGS += $(FUSE_CFLAGS)

# the archive gives only the members it needs (volume_name.o, value.o, text.o): no -l, so
# libc is all it loads; a member that needed more would fail this link. Static (but under the
# sanitizers, which need the dynamic runtime): an exec per event then maps one file and skips
# the dynamic loader (34 ms against 89 ms an exec in the test VM under TCG).
LIBC_TOOL_LDFLAGS = $(if $(LDSAN),,-static)
$(BUILD)/dvm-udev-id: $(call tool_objs,dvm-udev-id) $(LIBA)
	$(CC) $(LDSAN) $(LIBC_TOOL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBA)

# unit tests of a tool's pure parts link those objects (extra prerequisites below)
$(UNIT_BINS): $(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(TESTLIB_OBJ) $(LIBA)
	$(CC) $(LDSAN) -o $@ $(filter %.o,$^) $(LIBA) $(PKG_LIBS) $(JSON_LIBS) $(CRIT_LIBS)
$(BUILD)/tests/unit/tools/test_inspect_tree: $(BUILD)/tools/dvm-inspect/path.o $(BUILD)/tools/dvm-inspect/extents.o
$(BUILD)/tests/unit/tools/test_inspect_tree.o: ALL_CFLAGS += -Itools/dvm-inspect

$(VM_BINS): $(BUILD)/tests/vm/%: $(BUILD)/tests/vm/%.o $(TESTLIB_OBJ) $(LIBA)
	$(CC) $(LDSAN) -o $@ $< $(TESTLIB_OBJ) $(LIBA) $(PKG_LIBS) $(JSON_LIBS) $(CRIT_LIBS)

$(BENCH_BINS): $(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIBA)
	$(CC) $(LDSAN) -o $@ $< $(LIBA) $(PKG_LIBS)

deps:
	@tests/deps.sh

# The parsers of what a disposable controls, under libFuzzer (tests/fuzz/README.md): built
# with clang and ASan/UBSan in $(BUILD)/fuzz by a sub-make with FUZZ=1; a crash, leak or
# abort fails the run. fuzz-check (part of check-all) gives each target 30 s.
FUZZ_SECONDS ?= 600
FUZZ_BINS := $(patsubst %.c,$(BUILD)/%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
ifeq ($(FUZZ),1)
ALL_CFLAGS += -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
              -fno-omit-frame-pointer
endif
$(FUZZ_BINS): $(BUILD)/tests/fuzz/%: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/image.o $(LIBA)
	$(CC) -fsanitize=fuzzer,address,undefined -o $@ $(filter %.o,$^) $(LIBA) $(PKG_LIBS)
$(BUILD)/tests/fuzz/seeds: $(BUILD)/tests/fuzz/seeds.o $(BUILD)/tests/fuzz/image.o \
                           $(BUILD)/tests/lib/thin_fixture.o $(BUILD)/tests/lib/thin_fixture_tools.o \
                           $(BUILD)/tests/lib/tmpdir.o $(LIBA)
	$(CC) -fsanitize=address,undefined -o $@ $(filter %.o,$^) $(LIBA) $(PKG_LIBS)
fuzz-build:
	$(MAKE) FUZZ=1 CC=clang BUILD=$(BUILD)/fuzz $(FUZZ_BINS:$(BUILD)/%=$(BUILD)/fuzz/%) \
	    $(BUILD)/fuzz/tests/fuzz/seeds
fuzz: fuzz-build
	@tests/fuzz/run.sh $(BUILD)/fuzz $(FUZZ_SECONDS)
fuzz-check: fuzz-build
	@tests/fuzz/run.sh $(BUILD)/fuzz 30

# check, demo and bench install what they need, then build in a sub-make that reads the
# installed packages' flags (this make read them before they were there).
JOBS ?= $(shell nproc 2>/dev/null || echo 1)
check: deps
	$(MAKE) -j$(JOBS) check-all
check-all:
	$(MAKE) check-unit
	$(MAKE) check-python
	$(MAKE) fuzz-check
	$(MAKE) check-install
	$(MAKE) check-vm
	$(MAKE) check-xen

check-unit: tests check-layering
	@tests/run-unit.sh $(UNIT_BINS)

# driver/'s layers (driver/README.md): no upward include, no include circle; and the
# script's own proof that it refuses a bad include
check-layering:
	@tests/layering.sh
	@tests/layering.sh --self-test

# the Python binding and Qubes pool driver on the host (tests/python/): layouts, errors, options
check-python: all
	@tests/python/run.sh $(BUILD)

check-san:
	$(MAKE) SAN=1 BUILD=build-san check-unit

check-clang:
	$(MAKE) CC=clang BUILD=build-clang tests

check-valgrind: tests
	@VALGRIND=1 tests/run-unit.sh $(UNIT_BINS)

# the crash walk (tests/vm/test_crash.c) runs dvm-vol built with fault injection
check-vm: tests
	$(MAKE) FAULT=1 BUILD=$(BUILD)/fault all
	@tests/vm/run.sh $(BUILD)

# needs what check-vm needs, plus Debian's Xen hypervisor and tools (tests/deps.sh)
check-xen: all
	@tests/xen/run.sh $(BUILD)

demo: deps
	@$(MAKE) -j$(JOBS) demo-run
demo-run: all
	@tests/vm/run.sh --demo $(BUILD)

bench: deps
	@$(MAKE) -j$(JOBS) bench-run
bench-run: all $(BENCH_BINS)
	@bench/run.sh $(BUILD)

clean:
	rm -rf build build-*

include mk/install.mk
# the installed dvm-vol that a destroy starts as its worker (driver/lifecycle/later_kick.c)
$(BUILD)/%later_kick.o: ALL_CFLAGS += -DDVM_SBINDIR='"$(SBINDIR)"'

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
