#!/bin/sh
# tests/litmus/run.sh VTDKIT — every litmus scenario, twice: as written it
# must pass exploration up to its `explore` line's bound (exit 0); with the
# knob its "# litmus:" line names, the explorer must find a violation of
# the kind that line names (exit 1), and the replay command it prints must
# reproduce exactly that violation. One exploration also runs twice and
# must print the same. TAP on stdout.
vtdkit=$1
dir=$(dirname "$0")
n=0
fail=0
files=$(ls "$dir"/*.vtd)
echo "TAP version 13"
echo "1..$(($(echo "$files" | wc -l) * 4 + 3))"
for f in $files; do
	spec=$(sed -n 's/^# litmus: //p' "$f")
	knob=$(echo "$spec" | sed -n 's/.*inject=\([^ ]*\).*/\1/p')
	kind=$(echo "$spec" | sed -n 's/.*expect=\([^ ]*\).*/\1/p')
	name=$(basename "$f" .vtd)
	n=$((n + 1))
	# vtdkit run: the thread blocks one after the other, still judged.
	if out=$("$vtdkit" run "$f" 2>&1); then
		echo "ok $n $name: vtdkit run (threads in file order) passes"
	else
		echo "not ok $n $name: vtdkit run (threads in file order) passes"
		echo "$out" | head -10 | sed 's/^/# /'
		fail=$((fail + 1))
	fi
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
	n=$((n + 1))
	viol=$(echo "$out" | grep "^violation:")
	replay=$(echo "$out" | sed -n 's/^replay: vtdkit explore //p')
	# shellcheck disable=SC2086 # the options are words
	again=$("$vtdkit" explore $replay 2>&1)
	if [ -n "$replay" ] && [ "$(echo "$again" | grep "^violation:")" = "$viol" ] &&
	   echo "$again" | grep -q "^run 1 of"; then
		echo "ok $n $name: the replay token reproduces it in one run"
	else
		echo "not ok $n $name: the replay token reproduces it in one run"
		echo "$again" | head -10 | sed 's/^/# /'
		fail=$((fail + 1))
	fi
done
n=$((n + 1))
f=$dir/unlocked-tag-walk.vtd
if [ "$("$vtdkit" explore "$f" 2>/dev/null)" = "$("$vtdkit" explore "$f" 2>/dev/null)" ]; then
	echo "ok $n the same exploration twice gives the same result"
else
	echo "not ok $n the same exploration twice gives the same result"
	fail=$((fail + 1))
fi
n=$((n + 1))
out=$("$vtdkit" explore "$dir/../scenarios/lazy-256.vtd" 2>&1)
if [ $? -eq 2 ] && echo "$out" | grep -q "no thread blocks to explore"; then
	echo "ok $n a scenario without threads is an error (exit 2)"
else
	echo "not ok $n a scenario without threads is an error (exit 2)"
	fail=$((fail + 1))
fi
n=$((n + 1))
out=$("$vtdkit" explore --replay x:1 "$f" 2>&1)
if [ $? -eq 2 ] && echo "$out" | grep -q "bad replay token 'x:1'"; then
	echo "ok $n a malformed replay token is an error (exit 2)"
else
	echo "not ok $n a malformed replay token is an error (exit 2)"
	fail=$((fail + 1))
fi
exit $((fail != 0))
