# The kernel's behaviour (kernel/*.suite): the permission matrix on
# snd-dummy and snd-aloop from every ABI, the in-tree kselftest (built
# from the patched tree), the smoke test of the raw UAPI, and the
# regressions of the fixes at the head of the series (pcm-fixes, 64-bit,
# which loads the test driver of kernel/kmod; scripts/build-kernel builds
# that against each kernel). include-compat-uapi.c is built on the host by
# scripts/check-include.
KERNEL_ABIS := pcm-perm-matrix
KSFT_SRC := $(KSFT)/alsa/pcm-shared-test.c
KSFT_TESTS := $(if $(wildcard $(KSFT_SRC)),$(OUT)/pcm-shared-test $(OUT)/pcm-shared-test-32)

all: $(OUT)/pcm-smoke-raw $(OUT)/pcm-fixes $(KSFT_TESTS) \
	$(KERNEL_ABIS:%=$(OUT)/%) $(KERNEL_ABIS:%=$(OUT)/%-32) \
	$(KERNEL_ABIS:%=$(OUT)/%-32t64) $(KERNEL_ABIS:%=$(OUT)/%-x32)

$(OUT)/pcm-fixes: kernel/pcm-fixes.c ../include/sound/asound-shared.h $(LIB_H) | $(OUT)
	$(CC) $(CFLAGS) $(STATIC) -o $@ $<

KSFT_CFLAGS := -O2 -g -Wall -I$(SYSROOT)/usr/include -pthread
$(OUT)/pcm-shared-test: $(KSFT_SRC) | $(OUT)
	$(CC) $(KSFT_CFLAGS) $(STATIC) -o $@ $<
$(OUT)/pcm-shared-test-32: $(KSFT_SRC) | $(OUT)
	$(CC) -m32 $(KSFT_CFLAGS) -Wno-pointer-to-int-cast $(STATIC) -o $@ $<
