#!/usr/bin/env bash
# tests/run.sh - runs TAP-producing test programs, shows their output, and
# ends with the totals: "N passed, N failed[, N skipped]".
#
# Usage: tests/run.sh PROG...
# Each PROG is a path to a program, or a quoted shell command line.  A
# program that exits non-zero without reporting a failed test, prints no
# plan, runs a different number of tests than planned, or bails out counts
# as one failed test, so that the totals never look clean when it is not.
# Exit status: 0 if nothing failed, 1 otherwise, 2 on usage errors.

set -u

if [ $# -eq 0 ]; then
	echo "usage: $0 PROG..." >&2
	exit 2
fi

out=$(mktemp) || exit 2
trap 'rm -f "$out"' EXIT

passed=0
failed=0
skipped=0

for prog in "$@"; do
	echo "# run.sh: $prog"
	if [ -f "$prog" ] && [ -x "$prog" ]; then
		# A bare name would be looked up in PATH, not here.
		case $prog in
		*/*) cmd=$prog ;;
		*) cmd=./$prog ;;
		esac
		"$cmd" | tee "$out"
	else
		sh -c "$prog" | tee "$out"
	fi
	status=${PIPESTATUS[0]}

	# Only top-level lines count: indented ones belong to subtests.
	read -r p f s plan results bail < <(awk '
		/^ok( |$)/ {
			results++
			if ($0 ~ /^ok[^#]*#[ \t]*[Ss][Kk][Ii][Pp]/)
				s++
			else
				p++
		}
		/^not ok( |$)/ { results++; f++ }
		/^1\.\.[0-9]+/ && plan == "" { plan = substr($0, 4) + 0 }
		/^Bail out!/ { bail = 1 }
		END {
			print p + 0, f + 0, s + 0, (plan == "" ? "none" : plan),
			      results + 0, bail + 0
		}' "$out")

	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))

	problem=
	if [ "$bail" -eq 1 ]; then
		problem="bailed out"
	elif [ "$plan" = none ]; then
		problem="printed no plan (exit status $status)"
	elif [ "$plan" -ne "$results" ]; then
		problem="planned $plan tests but reported $results"
	elif [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		problem="exited with status $status"
	fi
	if [ -n "$problem" ]; then
		echo "# run.sh: $prog: $problem"
		failed=$((failed + 1))
	fi
done

summary="$passed passed, $failed failed"
if [ "$skipped" -gt 0 ]; then
	summary="$summary, $skipped skipped"
fi
echo "$summary"
[ "$failed" -eq 0 ]
