# The SELinux tests (selinux/selinux.suite, docs/selinux.md): selinux-pcm,
# its alsa-lib client, and the policies it loads in the VM, compiled with
# secilc from the shipped CIL module (../selinux/snd_pcm_shared.cil, the
# repository's selinux/, not this directory), the test policy and a base
# for this kernel's classes (scripts/selinux-test-base, from the kernel's
# own scripts/selinux/mdp): policy.bin as a policy writer would write it,
# policy-lax.bin granting too much (without the neverallow, which would
# refuse it). They land in $(OUT)/selinux, /tests/selinux in the VM.
SELINUX_OUT := $(OUT)/selinux
SELINUX_MDP := $(B)/linux/scripts/selinux/mdp/mdp
SELINUX_MODULE := ../selinux/snd_pcm_shared.cil selinux/selinux-test-policy.cil

all: $(OUT)/selinux-pcm $(OUT)/selinux-pcm-32 $(OUT)/selinux-pcm-x32 $(OUT)/selinux-alsa-client \
	$(OUT)/selinux-expect-fail.sh $(SELINUX_OUT)/policy.bin $(SELINUX_OUT)/policy-lax.bin

# the 32-bit and x32 builds (the rules of tests/Makefile) are clients
$(OUT)/selinux-pcm: selinux/selinux-pcm.c $(LIB_H) | $(OUT)
	$(CC) $(CFLAGS) $(STATIC) -o $@ $<

$(OUT)/selinux-alsa-client: selinux/selinux-alsa-client.c $(LIB_H) | $(OUT)
	$(CC) $(CFLAGS) -o $@ $< $(ALSA)

$(OUT)/selinux-expect-fail.sh: selinux/selinux-expect-fail.sh | $(OUT)
	install -m 755 $< $@

$(SELINUX_MDP):
	@echo "selinux.mk: no $@: build the kernel, with SECURITY_SELINUX ('make kernel')" >&2; exit 1

$(SELINUX_OUT)/base.cil: ../scripts/selinux-test-base $(SELINUX_MDP)
	@mkdir -p $(SELINUX_OUT)
	../scripts/selinux-test-base --mdp $(SELINUX_MDP) $@ > /dev/null

$(SELINUX_OUT)/policy.bin: $(SELINUX_OUT)/base.cil $(SELINUX_MODULE) selinux/selinux-test-neverallow.cil
	secilc -o $@ -f /dev/null $^

$(SELINUX_OUT)/policy-lax.bin: $(SELINUX_OUT)/base.cil $(SELINUX_MODULE) selinux/selinux-test-lax.cil
	secilc -o $@ -f /dev/null $^
