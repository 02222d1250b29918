// SPDX-License-Identifier: GPL-2.0
/*
 * The restricted sharing API of alsa-lib as a program that includes
 * <alsa/pcm-shared.h> sees it. scripts/check-include builds this against
 * the unpatched alsa-lib headers, where the values and declarations are
 * the shim's, and against the patched ones, where the compiler holds the
 * shim's declarations to the header's, and compares what the two print.
 */
#include <stdio.h>
#include <alsa/asoundlib.h>
#ifdef SND_PCM_PERM_MMAP
#define HEADER_HAS_THEM 1
#else
#define HEADER_HAS_THEM 0
#endif
#include <alsa/pcm-shared.h>

#define SHOW(name) printf("%s 0x%x\n", #name, (unsigned int)(name))

/* the declarations, as the types a program would take their address in */
static int (*const open_shared)(snd_pcm_t **, const char *,
				snd_pcm_stream_t, int) = snd_pcm_open_shared;
static int (*const open_shared_fd)(snd_pcm_t **, int, int) = snd_pcm_open_shared_fd;
static int (*const shared_export)(snd_pcm_t *, unsigned int) = snd_pcm_shared_export;
static int (*const perm_get)(snd_pcm_t *, unsigned int *) = snd_pcm_perm_get;
static int (*const perm_restrict)(snd_pcm_t *, unsigned int) = snd_pcm_perm_restrict;

int main(void)
{
	printf("header-defines-them %d\n", HEADER_HAS_THEM);
	SHOW(SND_PCM_PERM_MMAP);
	SHOW(SND_PCM_PERM_SYNC);
	SHOW(SND_PCM_PERM_STATUS);
	SHOW(SND_PCM_PERM_RW);
	SHOW(SND_PCM_PERM_CONTROL);
	SHOW(SND_PCM_PERM_ALL);
	SHOW(SND_PCM_PERM_SHARED);
	printf("functions-linked %d\n", open_shared && open_shared_fd &&
	       shared_export && perm_get && perm_restrict);
	return 0;
}
