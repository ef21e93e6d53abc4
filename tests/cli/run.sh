#!/bin/sh
# tests/cli/run.sh VTDKIT — the command line as a user meets it: every
# subcommand's --help (with its exit codes) and a bad option (exit 2 with
# a message naming it); `vtdkit demo`, the main job, on a small run: the
# policy table with a verdict per policy, the cost table, JSON and CSV
# output, a timeline that parses as trace-event JSON; a malformed scenario
# and a malformed trace reported with their line numbers. TAP on stdout.
vtdkit=$1
n=0
fail=0
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
cmds="hw demo run explore stress bench replay report"
echo "TAP version 13"
echo "1..$((2 * $(echo $cmds | wc -w) + 16))"

# ok CONDITION-EXIT-STATUS DESCRIPTION
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		fail=$((fail + 1))
		[ -f "$tmp/out" ] && head -20 "$tmp/out" | sed 's/^/# /'
	fi
}

have_py=0
command -v python3 >/dev/null 2>&1 && have_py=1
# json FILE: valid JSON (python3), else skip.
json() {
	[ $have_py -eq 0 ] && return 0
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" 2>"$tmp/out"
}

for c in $cmds; do
	"$vtdkit" "$c" --help >"$tmp/out" 2>&1
	rc=$?
	grep -q "^usage: vtdkit $c" "$tmp/out" && grep -q "^Exit status" "$tmp/out" &&
		[ $rc -eq 0 ]
	ok $? "$c --help: usage and exit codes"
	"$vtdkit" "$c" --no-such-option >"$tmp/out" 2>&1
	rc=$?
	[ $rc -eq 2 ] && grep -q "unknown option '--no-such-option'" "$tmp/out"
	ok $? "$c --no-such-option: exit 2, named"
done

# The main job, small: three policies, a verdict each, the cost table.
"$vtdkit" demo --ops 300 >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "^strict .*safe: all [0-9]* late accesses faulted" "$tmp/out" &&
	grep -q "^lazy .*exposed: [0-9]* of [0-9]* late accesses" "$tmp/out" &&
	grep -q "^lazy-ranged " "$tmp/out" && grep -q "^mmio  *100$" "$tmp/out"
ok $? "demo: policy table, verdicts, cost table"

"$vtdkit" demo --ops 300 --workload nvme --json >"$tmp/demo.json" 2>"$tmp/out"
rc=$?
[ $rc -eq 0 ] && json "$tmp/demo.json" && grep -q '"policies"' "$tmp/demo.json" &&
	grep -q '"costs"' "$tmp/demo.json"
ok $? "demo --json parses, with policies and costs"

"$vtdkit" demo --ops 300 --csv --no-late >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 0 ] && head -1 "$tmp/out" | grep -q "^policy,ops,inv_per_op," &&
	[ "$(grep -c '^strict,\|^lazy,\|^lazy-ranged,' "$tmp/out")" -eq 3 ]
ok $? "demo --csv: header and one row per policy"

"$vtdkit" demo --ops 200 --mode lazy --timeline "$tmp/tl.json" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 0 ] && json "$tmp/tl.json" && grep -q '"traceEvents"' "$tmp/tl.json" &&
	grep -q '"ph":"X"' "$tmp/tl.json" && ! grep -q "^strict " "$tmp/out"
ok $? "demo --timeline: trace-event JSON; --mode runs one policy"

"$vtdkit" demo --registers >"$tmp/out" 2>&1
ok $? "demo --registers: the register-level walk passes"

"$vtdkit" demo --workload nope >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "'nope'" "$tmp/out"
ok $? "demo --workload nope: exit 2, named"

"$vtdkit" demo --param ring=0 >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "ring" "$tmp/out"
ok $? "demo --param ring=0: exit 2, the key named"

"$vtdkit" demo --timeline /nonexistent/dir/t.json --ops 10 >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "/nonexistent/dir/t.json" "$tmp/out"
ok $? "demo --timeline to an unwritable path: exit 2, path named"

# A malformed scenario line: its line number and what is wrong.
printf '# a comment\niommu dmar0\nfrobnicate 3\n' >"$tmp/bad.vtd"
"$vtdkit" run "$tmp/bad.vtd" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "bad.vtd:3:" "$tmp/out"
ok $? "run: a malformed scenario line is reported with its line number"

# A malformed trace line: reported as FILE:LINE, the rest replayed.
cat >"$tmp/bad.trace" <<'EOF'
  t-1 [000] ..... 1.000001: add_device_to_group: IOMMU: groupID=4 device=0000:01:00.0
  t-1 [000] ..... 1.000002: attach_device_to_domain: IOMMU: device=0000:01:00.0
  t-1 [000] ..... 2.000000: map: IOMMU: iova=0x100000 - 0x101000 paddr=0x1000000 size=4096
  t-1 [000] ..... 2.000001: unmap: IOMMU: iova=0x100000 - 0x101000 size=4096 unmapped_size=nope
  t-1 [000] ..... 2.000002: unmap: IOMMU: iova=0x100000 - 0x101000 size=4096 unmapped_size=4096
  t-1 [000] ..... 2.000003: qi_submit: iotlb_inv dmar0: 0x600f2 0x100000 0x0 0x0
EOF
"$vtdkit" replay "$tmp/bad.trace" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "bad.trace:4: unmap:" "$tmp/out" && grep -q "1 maps, 1 unmaps" "$tmp/out"
ok $? "replay: a malformed line is reported with its line number, the rest replayed"

"$vtdkit" replay --csv "$tmp/bad.trace" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 0 ] && head -1 "$tmp/out" | grep -q "^what,linux,vtdkit$" &&
	grep -q "^iotlb_psi,1,[0-9]*$" "$tmp/out" && grep -q "^waits,,[0-9]*$" "$tmp/out" &&
	grep -A2 '^$' "$tmp/out" | grep -q "^mmio,100$"
ok $? "replay --csv: Linux and vtdkit side by side"

"$vtdkit" replay --timeline "$tmp/tl.json" "$tmp/bad.trace" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 0 ] && head -c 16 "$tmp/tl.json" | grep -q '^{"traceEvents":' &&
	grep -q '"name":"map","cat":"dma"' "$tmp/tl.json" &&
	grep -q '"args":{"name":"linux"}' "$tmp/tl.json" && grep -q "^mmio  *100$" "$tmp/out"
ok $? "replay --timeline: the calls and both sides' descriptors; the cost table printed"

# A truncated last line (no line end, cut mid-field).
printf '  t-1 [000] ..... 2.0: map: IOMMU: iova=0x100000 - 0x101000 paddr=0x1000000 size=4096\n  t-1 [000] ..... 2.1: unmap: IOMMU: iova=0x1000' >"$tmp/cut.trace"
"$vtdkit" replay "$tmp/cut.trace" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "cut.trace:2: truncated last line" "$tmp/out"
ok $? "replay: a truncated last line is reported with its line number"

"$vtdkit" replay /nonexistent.trace >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "/nonexistent.trace" "$tmp/out"
ok $? "replay: an unreadable file, exit 2, named"
# trace-cmd's trace.dat: a real one (tests/data/README.md), and a cut copy.
dat=tests/data/linux-6.18-markers.dat
head -c 5000 "$dat" >"$tmp/cut.dat"
if "$vtdkit" replay --help | grep -q "libtracecmd (built in)"; then
	"$vtdkit" replay --counts "$dat" >"$tmp/out" 2>&1
	rc=$?
	[ $rc -eq 0 ] && grep -q "^decoded by  *libtracecmd$" "$tmp/out" &&
		grep -q "^tracing_mark_write  *4$" "$tmp/out" &&
		grep -q "^unknown_event  *3  (first at line 4)$" "$tmp/out"
	ok $? "replay --counts: a trace.dat read through libtracecmd"
	"$vtdkit" replay "$tmp/cut.dat" >"$tmp/out" 2>&1
	rc=$?
	[ $rc -eq 2 ] && grep -q "cut.dat': libtracecmd could not read its headers" "$tmp/out"
	ok $? "replay: a cut trace.dat, exit 2, with libtracecmd's reason"
else
	"$vtdkit" replay "$dat" >"$tmp/out" 2>&1
	rc=$?
	[ $rc -eq 2 ] && grep -q "libtracecmd-dev" "$tmp/out"
	ok $? "replay: a trace.dat without libtracecmd, exit 2, says what to do"
	"$vtdkit" replay --counts "$tmp/cut.dat" >"$tmp/out" 2>&1
	rc=$?
	[ $rc -eq 2 ] && grep -q "cut.dat: no recognisable event" "$tmp/out"
	ok $? "replay --counts: a trace.dat without libtracecmd, exit 2, named"
fi
exit $((fail != 0))
