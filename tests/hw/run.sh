#!/bin/sh
# run.sh — run hw-console scripts through `vtdkit hw` and report TAP.
#
#   tests/hw/run.sh VTDKIT [SCRIPT.hw...]
#
# Without SCRIPTs, runs every tests/hw/*.hw. Each script runs once as
# `VTDKIT hw ARGS script`, ARGS from its "#@ args:" lines; reply i is
# compared with command line i. The script format is in docs/hw-console.md.
# Exit status: 0 when every script passed, 1 otherwise, 2 on bad usage.

if [ $# -lt 1 ]; then
	echo "usage: $0 VTDKIT [SCRIPT.hw...]" >&2
	exit 2
fi
vtdkit=$1
shift
if [ ! -x "$vtdkit" ]; then
	echo "Bail out! $vtdkit is not an executable"
	exit 2
fi
if [ $# -eq 0 ]; then
	set -- "$(dirname "$0")"/*.hw
	[ -e "$1" ] || set --
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vtdkit-hw.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT HUP INT TERM

# Split a script into the commands vtdkit reads (comments removed, line
# numbers kept) and one expectation record per command line:
# LINE FS KIND FS EXPECTED FS COMMAND, KIND being "=", "~" or "" (any
# reply but ERR). A comment starts at a '#' at the start of a line or
# after a blank, as in the console; its first "#=>" or "#=~" is the
# expectation. "#@ args:" lines collect the options into $tmp/args.
# shellcheck disable=SC2016 # awk programs, not shell expansions
prepare='
BEGIN { FS = "\n"; sep = "\034"; args = "" }
{
	sub(/\r$/, "")
	line = $0
	cmd = line
	comment = ""
	if (match(line, /(^|[ \t])#/)) {
		start = RSTART + (substr(line, RSTART, 1) == "#" ? 0 : 1)
		cmd = substr(line, 1, start - 1)
		comment = substr(line, start)
	}
	if (comment ~ /^#@[ \t]*args:/) {
		sub(/^#@[ \t]*args:/, "", comment)
		args = args " " comment
	}
	if (cmd !~ /[^ \t]/) {
		print "" > script
		next
	}
	print cmd > script
	kind = ""
	want = ""
	if (match(comment, /#=[>~]/)) {
		kind = substr(comment, RSTART + 2, 1) == ">" ? "=" : "~"
		want = substr(comment, RSTART + 3)
		sub(/^[ \t]+/, "", want)
		sub(/[ \t]+$/, "", want)
	}
	gsub(/^[ \t]+|[ \t]+$/, "", cmd)
	print NR sep kind sep want sep cmd > expect
}
END { print args > argsfile }
'

# Compare replies with expectations; print the first mismatch as TAP
# diagnostics and exit 1. vtdkit hw exits 2 exactly when a reply was ERR.
# shellcheck disable=SC2016
compare='
BEGIN { sep = "\034" }
FILENAME == ARGV[1] {
	split($0, f, sep)
	n++
	lineno[n] = f[1]; kind[n] = f[2]; want[n] = f[3]; cmd[n] = f[4]
	next
}
{ got[++m] = $0 }
function fail(i, what, g) {
	printf "# line %s: %s\n#   expected: %s\n#   got:      %s\n", lineno[i], cmd[i], what, g
	exit 1
}
END {
	for (i = 1; i <= n; i++) {
		if (i > m)
			fail(i, kind[i] == "" ? "a reply" : want[i], "(no reply; vtdkit hw exited with status " status ")")
		g = got[i]
		if (g ~ /^ERR/)
			errs++
		if (kind[i] == "=") {
			w = want[i]
			if (w ~ /\.\.\.$/) {
				w = substr(w, 1, length(w) - 3)
				if (substr(g, 1, length(w)) != w)
					fail(i, want[i], g)
			} else if (g != w) {
				fail(i, w, g)
			}
		} else if (kind[i] == "~") {
			if (g !~ want[i])
				fail(i, "a match for /" want[i] "/", g)
		} else if (g ~ /^ERR/) {
			fail(i, "a reply other than ERR", g)
		}
	}
	if (m > n) {
		printf "# %d more reply line(s) than commands; the first: %s\n", m - n, got[n + 1]
		exit 1
	}
	if (status != (errs ? 2 : 0)) {
		printf "# vtdkit hw exited with status %s, expected %d\n", status, errs ? 2 : 0
		exit 1
	}
}
'

echo "TAP version 13"
echo "1..$#"
k=0
failed=0
for hw in "$@"; do
	k=$((k + 1))
	name=$(basename "$hw" .hw)
	script="$tmp/$name.hw"
	if ! awk -v script="$script" -v expect="$tmp/expect" -v argsfile="$tmp/args" \
		"$prepare" "$hw" 2>"$tmp/err"; then
		echo "not ok $k $name"
		sed 's/^/# /' "$tmp/err"
		failed=$((failed + 1))
		continue
	fi
	: >>"$tmp/expect"
	# The options are split at blanks; no quoting, no globbing.
	set -f
	# shellcheck disable=SC2046
	"$vtdkit" hw $(cat "$tmp/args") "$script" >"$tmp/out" 2>"$tmp/err"
	status=$?
	set +f
	if awk -v status="$status" "$compare" "$tmp/expect" "$tmp/out" >"$tmp/diag"; then
		echo "ok $k $name"
	else
		echo "not ok $k $name"
		cat "$tmp/diag"
		if [ -s "$tmp/err" ]; then
			echo "# stderr:"
			head -n 20 "$tmp/err" | sed 's/^/#   /'
		fi
		failed=$((failed + 1))
	fi
	rm -f "$script" "$tmp/expect" "$tmp/args" "$tmp/out" "$tmp/err" "$tmp/diag"
done
[ "$failed" -eq 0 ]
