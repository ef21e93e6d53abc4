#!/bin/sh
# tests/stress/run.sh VTDKIT — short real-thread stress runs with the checker
# on (docs/checker.md, "Real threads"): every policy, with and without caching
# mode, must finish with no violation; with knob iova-reuse-before-flush the
# lazy policy must be caught. Bounded by operations and by time, so that
# sanitizer builds stay short. TAP on stdout.
vtdkit=$1
n=0
fail=0
echo "TAP version 13"
echo "1..5"
check() {
	want=$1 kind=$2
	shift 2
	n=$((n + 1))
	out=$("$vtdkit" stress --ops 20000 --seconds 3 "$@" 2>&1)
	rc=$?
	if [ $rc -eq "$want" ] && { [ -z "$kind" ] || echo "$out" | grep -q "^violation: $kind:"; }; then
		echo "ok $n stress $*"
	else
		echo "not ok $n stress $* (exit $rc, want $want${kind:+ and $kind})"
		fail=$((fail + 1))
	fi
	echo "$out" | head -8 | sed 's/^/# /'
}
check 0 "" --mode strict
check 0 "" --mode lazy
check 0 "" --mode lazy-ranged
check 0 "" --mode lazy --cm
check 1 reuse-before-flush --mode lazy --inject iova-reuse-before-flush
exit $((fail != 0))
