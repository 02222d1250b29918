/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Restricted shared PCM access: the alsa-lib API (docs/alsa-lib.md) for
 * programs built against an <alsa/pcm.h> that predates it.
 *
 * Include it instead of, or after, <alsa/asoundlib.h>. The constants give
 * way to the header's own; the declarations repeat those of the patched
 * <alsa/pcm.h> exactly, which the compiler holds them to wherever both
 * are seen. The values are the patched header's; scripts/check-include
 * keeps them so.
 *
 * The functions are in a libasound with the restricted sharing series
 * (symbol version ALSA_1.2.9): a program linked against them needs one.
 * On a kernel without restricted sharing they return -ENOTSUP.
 */
#ifndef __ALSA_PCM_SHARED_H
#define __ALSA_PCM_SHARED_H

#include <alsa/asoundlib.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef SND_PCM_PERM_MMAP
#define SND_PCM_PERM_MMAP		0x00000001
#endif
#ifndef SND_PCM_PERM_SYNC
#define SND_PCM_PERM_SYNC		0x00000002
#endif
#ifndef SND_PCM_PERM_STATUS
#define SND_PCM_PERM_STATUS		0x00000004
#endif
#ifndef SND_PCM_PERM_RW
#define SND_PCM_PERM_RW			0x00000008
#endif
#ifndef SND_PCM_PERM_CONTROL
#define SND_PCM_PERM_CONTROL		0x00000010
#endif
#ifndef SND_PCM_PERM_ALL
#define SND_PCM_PERM_ALL		(SND_PCM_PERM_MMAP | SND_PCM_PERM_SYNC | \
					 SND_PCM_PERM_STATUS | SND_PCM_PERM_RW | \
					 SND_PCM_PERM_CONTROL)
#endif
#ifndef SND_PCM_PERM_SHARED
#define SND_PCM_PERM_SHARED		(SND_PCM_PERM_MMAP | SND_PCM_PERM_SYNC | \
					 SND_PCM_PERM_STATUS)
#endif

int snd_pcm_open_shared(snd_pcm_t **pcm, const char *name,
			snd_pcm_stream_t stream, int mode);
int snd_pcm_open_shared_fd(snd_pcm_t **pcm, int fd, int mode);
int snd_pcm_shared_export(snd_pcm_t *pcm, unsigned int perm);
int snd_pcm_perm_get(snd_pcm_t *pcm, unsigned int *perm);
int snd_pcm_perm_restrict(snd_pcm_t *pcm, unsigned int perm);
int snd_pcm_shared_revoke(snd_pcm_t *pcm, int fd);

#ifdef __cplusplus
}
#endif

#endif /* __ALSA_PCM_SHARED_H */
