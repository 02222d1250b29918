#!/bin/sh
# Run a TAP program where the behaviour some checks need is missing, and
# report one TAP result: did exactly the named checks fail (and the
# others pass)? A check is named by the word before the colon of its
# result line. The program's own output is shown as comments.
#
#   selinux-expect-fail.sh WHAT "NAME..." CMD...
what=$1 names=$2
shift 2
out=$("$@" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
failed=$(printf '%s\n' "$out" | sed -n 's/^not ok [0-9]* \([^ :]*\):.*/\1/p' | sort | tr '\n' ' ')
passed=$(printf '%s\n' "$out" | grep -c '^ok ')
want=$(printf '%s\n' $names | sort | tr '\n' ' ')
echo "1..1"
if [ "$failed" = "$want" ] && [ "$rc" != 0 ] && [ "$passed" -gt 0 ]; then
	echo "ok 1 $what: exactly the checks that need it fail: $failed($passed others pass)"
else
	echo "not ok 1 $what: expected to fail: $want; failed: $failed(exit $rc, $passed passed)"
	exit 1
fi
