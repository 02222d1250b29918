# The alsa-lib tests of restricted sharing (docs/alsa-lib.md;
# alsa-lib/alsa-lib.suite): programs linked against the patched libasound
# in the sysroot, run in the VM with aplay and arecord as the masters; the
# wrong-use test also runs on the host, under valgrind.
# pcm-shared-lib-revoke tests export and revocation, pcm-follow the follow
# plugin, pcm-smoke-alsa that alsa-lib works in the VM at all (the smoke
# test of kernel/kernel.suite). include-compat-alsa.c is built on the host
# by scripts/check-include.
LIBTESTS := pcm-shared-lib pcm-shared-lib-baseline pcm-shared-lib-bad \
	pcm-shared-lib-revoke pcm-follow

all: $(LIBTESTS:%=$(OUT)/%) $(OUT)/pcm-smoke-alsa

$(LIBTESTS:%=$(OUT)/%): $(OUT)/%: alsa-lib/%.c alsa-lib/pcm-shared-lib.h $(LIB_H) | $(OUT)
	$(CC) $(CFLAGS) -o $@ $< $(ALSA)

# the harness compares expected and seen values of the API's mixed types,
# and its setjmp() makes gcc fear for the variables of the tests
$(LIBTESTS:%=$(OUT)/%): CFLAGS += -Wno-sign-compare -Wno-clobbered

$(OUT)/pcm-smoke-alsa: alsa-lib/pcm-smoke-alsa.c | $(OUT)
	$(CC) $(CFLAGS) -o $@ $< $(ALSA)
