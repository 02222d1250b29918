# Shared shell helpers for the scripts in this directory (sourced, not run).

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$TOP/build

# Commits made by the tooling need an identity even on a fresh machine.
export GIT_AUTHOR_NAME="${GIT_AUTHOR_NAME:-restricted-pcm build}"
export GIT_AUTHOR_EMAIL="${GIT_AUTHOR_EMAIL:-build@localhost}"
export GIT_COMMITTER_NAME="${GIT_COMMITTER_NAME:-restricted-pcm build}"
export GIT_COMMITTER_EMAIL="${GIT_COMMITTER_EMAIL:-build@localhost}"

die() { echo "$STEP: error: $*" >&2; exit 1; }
say() { echo "$STEP: $*"; }

# Print a dot-free progress line every N lines of a build log on stdin,
# keeping the whole log in $1.
progress() {
	log=$1 every=${2:-250} what=${3:-lines}
	awk -v every="$every" -v step="$STEP" -v what="$what" -v logf="$log" '
		{ print > logf; n++ }
		n % every == 0 { printf "%s: ... %d %s\n", step, n, what; fflush() }
		END { close(logf) }'
}

# sha256 of a list of files (missing files hash as empty)
hash_files() {
	for f in "$@"; do
		echo "== $f"
		[ -f "$f" ] && cat "$f"
	done | sha256sum | cut -d' ' -f1
}

# The patch files a series directory lists, in order, as paths.
series_files() {
	dir=$1
	[ -f "$dir/series" ] || return 0
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$dir/series" | while read -r p; do
		echo "$dir/$p"
	done
}

# The kernel a step works on, from KERNEL: 7.2 (mainline, the default) or
# 6.12 (the backport). Sets KTREE (the patched git tree), KBASE (its
# baseline worktree) and KSERIES (the patch series).
kernel_select() {
	case "${KERNEL:-7.2}" in
	7.2)	KTREE=$BUILD/linux KSERIES=$TOP/kernel-patch ;;
	6.12)	KTREE=$BUILD/linux-6.12 KSERIES=$TOP/kernel-patch-6.12 ;;
	*)	die "KERNEL=$KERNEL: the kernels are 7.2 (mainline) and 6.12 (backport)" ;;
	esac
	KVER=${KERNEL:-7.2}
	KBASE=$KTREE-baseline
}
