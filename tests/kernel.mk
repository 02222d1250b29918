# The kernel's own tests beyond the in-tree kselftest: the regressions of
# the fixes at the head of the series (tests/pcm-fixes.c, which loads the
# test driver of tests/kmod), 64-bit.
all: $(OUT)/pcm-fixes

$(OUT)/pcm-fixes: pcm-fixes.c ../include/sound/asound-shared.h | $(OUT)
	$(CC) $(CFLAGS) $(STATIC) -o $@ $<
