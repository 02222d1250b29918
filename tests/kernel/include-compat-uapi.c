// SPDX-License-Identifier: GPL-2.0
/*
 * The restricted sharing UAPI as a program that includes
 * <sound/asound-shared.h> sees it. scripts/check-include builds this
 * against the unpatched kernel header, where the values are the
 * shim's, and against the patched one, where they are the kernel's, and
 * compares what the two print.
 */
#include <stdio.h>
#include <sound/asound.h>
#ifdef SNDRV_PCM_PERM_MMAP
#define HEADER_HAS_THEM 1
#else
#define HEADER_HAS_THEM 0
#endif
#include <sound/asound-shared.h>

#define SHOW(name) printf("%s 0x%x\n", #name, (unsigned int)(name))

int main(void)
{
	printf("header-defines-them %d\n", HEADER_HAS_THEM);
	SHOW(SNDRV_PCM_PERM_MMAP);
	SHOW(SNDRV_PCM_PERM_SYNC);
	SHOW(SNDRV_PCM_PERM_STATUS);
	SHOW(SNDRV_PCM_PERM_RW);
	SHOW(SNDRV_PCM_PERM_CONTROL);
	SHOW(SNDRV_PCM_PERM_ALL);
	SHOW(SNDRV_PCM_PERM_SHARED);
	SHOW(SNDRV_PCM_IOCTL_HW_PARAMS_GET);
	SHOW(SNDRV_PCM_IOCTL_SW_PARAMS_GET);
	SHOW(SNDRV_PCM_IOCTL_PERM_GET);
	SHOW(SNDRV_PCM_IOCTL_PERM_RESTRICT);
	return 0;
}
