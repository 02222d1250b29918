/* SPDX-License-Identifier: GPL-2.0+ WITH Linux-syscall-note */
/*
 * Restricted shared PCM access: the kernel UAPI additions (described in
 * the kernel's Documentation/sound/designs/pcm-restricted-sharing.rst)
 * for programs built against a <sound/asound.h> that predates them.
 *
 * Include it instead of, or after, <sound/asound.h>. Each definition gives
 * way to the header's own, so that the file does nothing once the
 * distribution's header has them. The values are the patched kernel's
 * (include/uapi/sound/asound.h); scripts/check-include keeps them so.
 *
 * The definitions say nothing about the running kernel: one that does not
 * know them refuses SNDRV_PCM_IOCTL_PERM_GET with ENOTTY, and ignores the
 * O_EXCL of a restricted open (O_RDWR | O_APPEND | O_EXCL), which then
 * gives full control. Check the mask with SNDRV_PCM_IOCTL_PERM_GET before
 * handing a file descriptor on.
 */
#ifndef __SOUND_ASOUND_SHARED_H
#define __SOUND_ASOUND_SHARED_H

#include <linux/ioctl.h>
#include <sound/asound.h>

/* permissions of a PCM file descriptor on its substream */
#ifndef SNDRV_PCM_PERM_MMAP
#define SNDRV_PCM_PERM_MMAP	(1U << 0)	/* mmap of the data buffer */
#endif
#ifndef SNDRV_PCM_PERM_SYNC
#define SNDRV_PCM_PERM_SYNC	(1U << 1)	/* hwsync, status and control pages */
#endif
#ifndef SNDRV_PCM_PERM_STATUS
#define SNDRV_PCM_PERM_STATUS	(1U << 2)	/* setup and status queries, poll */
#endif
#ifndef SNDRV_PCM_PERM_RW
#define SNDRV_PCM_PERM_RW	(1U << 3)	/* transfers: moves appl_ptr */
#endif
#ifndef SNDRV_PCM_PERM_CONTROL
#define SNDRV_PCM_PERM_CONTROL	(1U << 4)	/* setup and state changes */
#endif
#ifndef SNDRV_PCM_PERM_ALL
#define SNDRV_PCM_PERM_ALL	(SNDRV_PCM_PERM_MMAP | SNDRV_PCM_PERM_SYNC | \
				 SNDRV_PCM_PERM_STATUS | SNDRV_PCM_PERM_RW | \
				 SNDRV_PCM_PERM_CONTROL)
#endif
#ifndef SNDRV_PCM_PERM_SHARED
#define SNDRV_PCM_PERM_SHARED	(SNDRV_PCM_PERM_MMAP | SNDRV_PCM_PERM_SYNC | \
				 SNDRV_PCM_PERM_STATUS)
#endif

#ifndef SNDRV_PCM_IOCTL_HW_PARAMS_GET
#define SNDRV_PCM_IOCTL_HW_PARAMS_GET	_IOR('A', 0x14, struct snd_pcm_hw_params)
#endif
#ifndef SNDRV_PCM_IOCTL_SW_PARAMS_GET
#define SNDRV_PCM_IOCTL_SW_PARAMS_GET	_IOR('A', 0x15, struct snd_pcm_sw_params)
#endif
#ifndef SNDRV_PCM_IOCTL_PERM_GET
#define SNDRV_PCM_IOCTL_PERM_GET	_IOR('A', 0x70, unsigned int)
#endif
#ifndef SNDRV_PCM_IOCTL_PERM_RESTRICT
#define SNDRV_PCM_IOCTL_PERM_RESTRICT	_IOW('A', 0x71, unsigned int)
#endif

/* a new anonymous file on the substream, holding perm (no CONTROL) */
#ifndef SNDRV_PCM_IOCTL_SHARED_EXPORT
struct snd_pcm_shared_export {
	unsigned int perm;	/* in: SNDRV_PCM_PERM_* of the new file */
	unsigned int flags;	/* in: O_RDONLY, O_WRONLY or O_RDWR, | O_CLOEXEC, | O_NONBLOCK */
	int fd;			/* out: the new file descriptor */
	unsigned char reserved[20];	/* must be zero */
};
#define SNDRV_PCM_IOCTL_SHARED_EXPORT	_IOWR('A', 0x72, struct snd_pcm_shared_export)
#endif
/* revoke the file without CONTROL named by a descriptor, or all with -1 */
#ifndef SNDRV_PCM_IOCTL_SHARED_REVOKE
#define SNDRV_PCM_IOCTL_SHARED_REVOKE	_IOW('A', 0x73, int)
#endif

#endif /* __SOUND_ASOUND_SHARED_H */
