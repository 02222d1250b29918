# The measurements of 'make bench' (scripts/bench): one static 64-bit
# program, run in the VM on the patched and the baseline kernel.
all: $(OUT)/pcm-bench

$(OUT)/pcm-bench: pcm-bench.c pcm-util.h | $(OUT)
	$(CC) $(CFLAGS) $(STATIC) -o $@ $< -lm
