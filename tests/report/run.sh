#!/bin/sh
# tests/report/run.sh VTDKIT — `vtdkit report` end to end (docs/plots.md):
# short runs of every workload and policy write the plot data and script;
# with gnuplot installed the images must be real PNG and SVG files, without
# it (also forced by a PATH that has no gnuplot) the run still succeeds,
# says so and leaves no stale images; JSON and CSV output, and bad usage
# (exit 2, naming the culprit). TAP on stdout.
vtdkit=$1
n=0
fail=0
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
dir=$tmp/plots
data="cost.dat inval.dat hitrate.dat exposure.dat plots.gp"
images="cost inval exposure exposure-hist hitrate"
have_gnuplot=
command -v gnuplot >/dev/null 2>&1 && have_gnuplot=1

echo "TAP version 13"
echo "1..27"

# ok|not ok with the description; $2: extra diagnostics printed on failure.
result() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n $desc"
	else
		echo "not ok $n $desc"
		[ -n "$2" ] && printf '%s\n' "$2" | head -20 | sed 's/^/# /'
		fail=$((fail + 1))
	fi
}

skip() {
	n=$((n + 1))
	echo "ok $n $desc # SKIP $1"
}

out=$("$vtdkit" report --out "$dir" --ops 300 2>"$tmp/err")
rc=$?
desc="vtdkit report --ops 300 exits 0"
[ $rc -eq 0 ]
result $? "exit $rc; $(cat "$tmp/err")"

for f in $data; do
	desc="$f written and not empty"
	[ -s "$dir/$f" ]
	result $?
done

desc="cost.dat: a row per workload, a value per policy"
rows=$(grep -c '^"' "$dir/cost.dat")
bad=$(grep '^"' "$dir/cost.dat" | awk 'NF != 4' | wc -l)
[ "$rows" -eq 5 ] && [ "$bad" -eq 0 ]
result $? "$(cat "$dir/cost.dat")"

desc="exposure.dat: a block per workload and policy"
blocks=$(grep -c '^# block [0-9]*:' "$dir/exposure.dat")
[ "$blocks" -eq 15 ]
result $? "$blocks blocks"

for i in $images; do
	desc="$i.png is a PNG image"
	if [ -z "$have_gnuplot" ]; then
		skip "gnuplot not installed"
	else
		# The PNG signature: 89 50 4E 47 0D 0A 1A 0A (PNG spec, 5.2).
		[ "$(head -c 8 "$dir/$i.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = \
			"89504e470d0a1a0a" ]
		result $?
	fi
	desc="$i.svg is an SVG image"
	if [ -z "$have_gnuplot" ]; then
		skip "gnuplot not installed"
	else
		grep -q "<svg" "$dir/$i.svg" 2>/dev/null
		result $?
	fi
done

desc="the output lists every file written"
missing=
for f in $data; do
	echo "$out" | grep -q "$dir/$f " || missing="$missing $f"
done
if [ -n "$have_gnuplot" ]; then
	for i in $images; do
		echo "$out" | grep -q "$dir/$i.png " || missing="$missing $i.png"
	done
else
	echo "$out" | grep -q "gnuplot is not installed" || missing="$missing (notice)"
fi
[ -z "$missing" ]
result $? "missing:$missing"

desc="--json prints one JSON document with the runs and the files"
if ! command -v python3 >/dev/null 2>&1; then
	skip "python3 not installed"
else
	"$vtdkit" report --json --out "$tmp/json" --ops 300 --workload nic-rx >"$tmp/j" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 0 ] && python3 -m json.tool "$tmp/j" >/dev/null &&
		grep -q '"runs":' "$tmp/j" && grep -q '"files":' "$tmp/j"
	result $? "exit $rc; $(cat "$tmp/err")"
fi

desc="--csv starts with the runs' header"
first=$("$vtdkit" report --csv --out "$tmp/csv" --ops 300 --workload gpu 2>/dev/null | head -1)
case $first in
workload,policy,*) true ;;
*) false ;;
esac
result $? "$first"

desc="--late: exit 0 and a late-stale column"
out=$("$vtdkit" report --late --out "$tmp/late" --ops 300 --workload nic-rx 2>&1)
rc=$?
[ $rc -eq 0 ] && echo "$out" | grep -q "late stale"
result $? "exit $rc; $out"

desc="--cm 1 --profile adversarial: runs and says so, --ops kept"
out=$("$vtdkit" report --ops 300 --cm 1 --profile adversarial --out "$tmp/cm" \
	--workload nic-rx 2>&1)
rc=$?
[ $rc -eq 0 ] &&
	echo "$out" | grep -q "^vtdkit report: 300 operations per run, caching mode on, adversarial"
result $? "exit $rc; $out"

desc="without gnuplot on PATH: exit 0, says so, data written, old images removed"
out=$(PATH=/nonexistent "$vtdkit" report --out "$dir" --ops 300 --workload nic-rx 2>&1)
rc=$?
[ $rc -eq 0 ] && echo "$out" | grep -q "gnuplot is not installed: no images were drawn" &&
	[ -s "$dir/plots.gp" ] && ! ls "$dir"/*.png "$dir"/*.svg >/dev/null 2>&1
result $? "exit $rc; $out"

desc="a bad option: exit 2 naming it"
out=$("$vtdkit" report --bogus 2>&1)
rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q -- "--bogus"
result $? "exit $rc; $out"

desc="a bad workload: exit 2 naming it"
out=$("$vtdkit" report --workload nosuch --out "$tmp/bad" 2>&1)
rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "'nosuch'" && [ ! -e "$tmp/bad" ]
result $? "exit $rc; $out"

desc="a bad --ops value: exit 2 naming it"
out=$("$vtdkit" report --ops 0 --out "$tmp/bad" 2>&1)
rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q -- "--ops: bad value '0'"
result $? "exit $rc; $out"

exit $((fail != 0))
