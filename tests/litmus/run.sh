#!/bin/sh
# tests/litmus/run.sh VTDKIT — every litmus scenario, twice: as written it
# must pass exploration up to its `explore` line's bound (exit 0); with the
# knob its "# litmus:" line names, the explorer must find a violation of
# the kind that line names (exit 1). TAP on stdout.
vtdkit=$1
dir=$(dirname "$0")
n=0
fail=0
files=$(ls "$dir"/*.vtd)
echo "TAP version 13"
echo "1..$(($(echo "$files" | wc -l) * 2))"
for f in $files; do
	spec=$(sed -n 's/^# litmus: //p' "$f")
	knob=$(echo "$spec" | sed -n 's/.*inject=\([^ ]*\).*/\1/p')
	kind=$(echo "$spec" | sed -n 's/.*expect=\([^ ]*\).*/\1/p')
	name=$(basename "$f" .vtd)
	n=$((n + 1))
	if out=$("$vtdkit" explore "$f" 2>&1); then
		echo "ok $n $name: clean up to its bound"
		echo "$out" | sed 's/^/# /'
	else
		echo "not ok $n $name: clean up to its bound"
		echo "$out" | head -40 | sed 's/^/# /'
		fail=$((fail + 1))
	fi
	n=$((n + 1))
	out=$("$vtdkit" explore --inject "$knob" "$f" 2>&1)
	rc=$?
	if [ -n "$knob" ] && [ $rc -eq 1 ] && echo "$out" | grep -q "^violation: $kind:"; then
		echo "ok $n $name: --inject $knob finds $kind"
		echo "$out" | head -3 | sed 's/^/# /'
	else
		echo "not ok $n $name: --inject $knob finds $kind (exit $rc)"
		echo "$out" | head -40 | sed 's/^/# /'
		fail=$((fail + 1))
	fi
done
exit $((fail != 0))
