# Restricted shared PCM access: the pipeline.
#
#   make check   everything from a fresh clone: install, build, test
#   make demo    the feature working on real audio, in the VM
#
# Build outputs live under build/ (ignored by git). The patch series in
# kernel-patch/ (mainline, Linux 7.2), kernel-patch-6.12/ (the backport)
# and alsa-lib-patch/ are the source of truth; work happens in the git
# trees build/linux, build/linux-6.12 and build/alsa-lib, and
# 'make patches' writes their commits back.
#
# KERNEL=6.12 makes the kernel targets work on the backport.

SHELL := /bin/sh
B := build
KERNEL ?= 7.2
export KERNEL
KTREE := $(if $(filter 6.12,$(KERNEL)),$(B)/linux-6.12,$(B)/linux)

.PHONY: all deps kernel-tree kernel kernel-baseline kernel-6.12 alsa-tree alsa \
	tests check check-upstream check-bisect kunit-i386 patches demo bench stress clean

all: kernel alsa tests

deps:
	@scripts/install-deps

kernel-tree: deps
	@scripts/kernel-tree

kernel: kernel-tree
	@scripts/build-kernel $(KTREE)

kernel-baseline: deps
	@scripts/kernel-tree --baseline
	@scripts/build-kernel $(KTREE)-baseline

# the 6.12 backport, which make check also tests
kernel-6.12:
	@$(MAKE) -s kernel KERNEL=6.12

alsa-tree: deps
	@scripts/alsa-tree

alsa: alsa-tree
	@KERNEL=7.2 scripts/kernel-tree
	@scripts/build-alsa

tests: alsa
	@$(MAKE) -s -C tests B=$(abspath $(B))

# Host checks, then the VM suite; one summary line at the end. The suite
# files (tests/GROUP/*.suite, and the demo's tests/demo.suite) run two at
# a time, the longest first, so that both cores stay busy to the end; any
# other suite file comes after them.
SUITES := $(addprefix tests/,attack/stress.suite alsa-lib/alsa-lib.suite kernel/kernel.suite \
	harness/harness.suite demo.suite)
SUITES += $(filter-out $(SUITES),$(sort $(wildcard tests/*.suite tests/*/*.suite)))

check: kernel kernel-baseline kernel-6.12 alsa tests
	@scripts/run-tests --jobs 2 $(SUITES)

check-upstream: kernel kernel-baseline alsa
	@scripts/check-upstream

# every kernel patch builds on its own (about 5 minutes with a warm ccache)
check-bisect: kernel
	@scripts/check-patches --build

# the KUnit tests on an i386 kernel, once (about 6 minutes cold)
kunit-i386: kernel
	@scripts/kunit-i386

patches: deps
	@scripts/make-patches

demo: kernel alsa tests
	@scripts/demo

bench: kernel kernel-baseline alsa tests
	@scripts/bench

stress: kernel alsa tests
	@scripts/stress $(if $(MINUTES),--minutes $(MINUTES))

clean:
	rm -rf $(B)/tests $(B)/vm $(B)/test-logs
