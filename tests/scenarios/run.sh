#!/bin/sh
# run.sh — run scenario files through `vtdkit run` and report TAP.
#
#   tests/scenarios/run.sh VTDKIT [SCENARIO.vtd...]
#
# Without SCENARIOs, runs every tests/scenarios/*.vtd. A scenario passes
# when `VTDKIT run SCENARIO` exits with the status it expects:
#   - 2 for a file named *-bad-*.vtd, else 0;
#   - N when its first line is "# expect-exit: N".
# Lines "# expect-stderr: TEXT" (anywhere) list standard error line by
# line: then stderr must have exactly that many lines, line i ending in
# the i-th TEXT (so TEXT may leave out the "FILE" in "FILE:LINE: ...").
# Without them, a scenario expected to exit 0 must print nothing on
# stderr. Any sanitizer report on stderr fails the scenario.
# Exit status: 0 when every scenario passed, 1 otherwise, 2 on bad usage.

if [ $# -lt 1 ]; then
	echo "usage: $0 VTDKIT [SCENARIO.vtd...]" >&2
	exit 2
fi
vtdkit=$1
shift
if [ ! -x "$vtdkit" ]; then
	echo "Bail out! $vtdkit is not an executable"
	exit 2
fi
if [ $# -eq 0 ]; then
	set -- "$(dirname "$0")"/*.vtd
	[ -e "$1" ] || set --
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vtdkit-scn.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT HUP INT TERM

echo "TAP version 13"
echo "1..$#"
n=0
failed=0
for f in "$@"; do
	n=$((n + 1))
	name=$(basename "$f")
	case $name in
	*-bad-*) want=2 ;;
	*) want=0 ;;
	esac
	first=$(head -n 1 "$f")
	case $first in
	"# expect-exit:"*) want=$(printf '%s\n' "$first" | sed 's/^# expect-exit:[ 	]*//; s/[ 	]*$//') ;;
	esac
	sed -n 's/^# expect-stderr:[ 	]\{0,1\}//p' "$f" >"$tmp/want"

	"$vtdkit" run "$f" >"$tmp/out" 2>"$tmp/err"
	status=$?

	why=
	if [ "$status" != "$want" ]; then
		why="exit status $status, expected $want"
	elif grep -q -e 'Sanitizer' -e 'runtime error:' "$tmp/err"; then
		why="sanitizer report on stderr"
	elif [ -s "$tmp/want" ]; then
		# Line i of stderr must end with line i of the expectations.
		why=$(awk -v errfile="$tmp/err" '
			{ want[NR] = $0 }
			END {
				n = 0
				while ((getline line < errfile) > 0) {
					n++
					w = want[n]
					if (n > NR) {
						print "stderr has more than " NR " lines"
						exit
					}
					if (length(line) < length(w) ||
					    substr(line, length(line) - length(w) + 1) != w) {
						print "stderr line " n " does not end with the expected text"
						exit
					}
				}
				if (n < NR)
					print "stderr has " n " lines, expected " NR
			}' "$tmp/want")
	elif [ "$want" = 0 ] && [ -s "$tmp/err" ]; then
		why="exit status 0 but stderr is not empty"
	fi

	if [ -z "$why" ]; then
		echo "ok $n $name"
	else
		failed=$((failed + 1))
		echo "not ok $n $name"
		echo "# $why"
		if [ -s "$tmp/want" ]; then
			echo "# expected stderr (line endings):"
			sed 's/^/#   /' "$tmp/want"
		fi
		echo "# stderr:"
		sed 's/^/#   /' "$tmp/err"
	fi
done
[ "$failed" -eq 0 ]
