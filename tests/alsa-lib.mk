# The alsa-lib tests of restricted sharing (SPEC section 4): programs
# linked against the patched libasound in the sysroot, run in the VM with
# aplay and arecord as the masters; the wrong-use test also runs on the
# host, under valgrind. pcm-shared-lib-revoke tests export and revocation,
# pcm-follow the follow plugin.
LIBTESTS := pcm-shared-lib pcm-shared-lib-baseline pcm-shared-lib-bad \
	pcm-shared-lib-revoke pcm-follow

all: $(LIBTESTS:%=$(OUT)/%)

$(LIBTESTS:%=$(OUT)/%): $(OUT)/%: %.c pcm-shared-lib.h | $(OUT)
	$(CC) $(CFLAGS) -o $@ $< $(ALSA)

# the harness compares expected and seen values of the API's mixed types,
# and its setjmp() makes gcc fear for the variables of the tests
$(LIBTESTS:%=$(OUT)/%): CFLAGS += -Wno-sign-compare -Wno-clobbered
