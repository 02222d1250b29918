# The attack tests (issues 5 and 12; attack/stress.suite, and the long
# forms of 'make stress'): an ioctl fuzzer, a race stress and race pairs,
# every order of the lifetime events with revocation, the escapes. 64-bit
# (with io_uring through liburing), 32-bit and, for the fuzzer, x32
# builds; the 64-bit fuzzer starts the others as its attacker processes.
ATTACK := pcm-ioctl-fuzz pcm-race-stress pcm-race-pairs pcm-lifetime pcm-escape
ATTACK_DEPS := attack/pcm-attack.h $(LIB_H)

all: $(ATTACK:%=$(OUT)/%) $(ATTACK:%=$(OUT)/%-32) $(OUT)/pcm-ioctl-fuzz-x32

$(ATTACK:%=$(OUT)/%): $(OUT)/%: attack/%.c $(ATTACK_DEPS) | $(OUT)
	$(CC) $(CFLAGS) -DHAVE_LIBURING $(STATIC) -o $@ $< -luring
$(ATTACK:%=$(OUT)/%-32): $(OUT)/%-32: attack/%.c $(ATTACK_DEPS) | $(OUT)
	$(CC) -m32 $(CFLAGS) $(STATIC) -o $@ $<
$(OUT)/pcm-ioctl-fuzz-x32: attack/pcm-ioctl-fuzz.c $(ATTACK_DEPS) | $(OUT)
	$(CC) -mx32 $(CFLAGS) $(STATIC) -o $@ $<
