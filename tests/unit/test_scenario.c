/*
 * test_scenario.c — the scenario parser (src/bench/scenario.c), in
 * process: every message a malformed line gets, with its line number,
 * and the forms a well-formed file may take (comments, blanks, CRLF,
 * keys anywhere, number syntax, expect qi blocks); then the executor:
 * exit statuses, messages, trace lines, valid JSON, counter names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "bench/scenario.h"

/* A unit, a device behind it and a domain: lines 1 to 3. */
#define BASE	"iommu a\ndevice 00:01.0 iommu=a\ndomain d\n"

struct bad {
	const char *what;
	const char *text;
	int line;
	const char *msg;
	size_t len;		/* 0: strlen(text) */
};

static const struct bad bad_rows[] = {
	/* Commands and arguments */
	{ "unknown command", "iommu a\nfrob x\n", 2,
	  "unknown command 'frob' (commands: iommu, device, domain, attach, detach, map, "
	  "unmap, flush, dma, dma_map, dma_unmap, advance, repeat, gather, expect)" },
	{ "long word is cut at 40", "aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeee\n", 1,
	  "unknown command 'aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd...' (commands: iommu, "
	  "device, domain, attach, detach, map, unmap, flush, dma, dma_map, dma_unmap, advance, "
	  "repeat, gather, expect)" },
	{ "missing name", "iommu\n", 1, "missing NAME (usage: iommu NAME [KEY=VALUE]...)" },
	{ "missing size", BASE "map d 0x1000 0x2000\n", 4,
	  "missing SIZE (usage: map DOMAIN IOVA PA SIZE [perm=r|w|rw])" },
	{ "missing domain", BASE "flush\n", 4, "missing DOMAIN (usage: flush DOMAIN)" },
	{ "extra argument", BASE "detach 00:01.0 extra\n", 4,
	  "unexpected argument 'extra' (usage: detach BDF)" },
	{ "unknown key", BASE "map d 0 0 4K foo=1\n", 4,
	  "unknown key 'foo' (usage: map DOMAIN IOVA PA SIZE [perm=r|w|rw])" },
	{ "key on a command without keys", BASE "flush d perm=r\n", 4,
	  "unknown key 'perm' (usage: flush DOMAIN)" },
	{ "key twice", BASE "map d 0 0 4K perm=r perm=w\n", 4, "key 'perm' is given twice" },
	{ "too many words", "iommu a b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b "
	  "b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b\n", 1,
	  "more than 64 words on one line" },
	{ "NUL byte", "iommu a\nx\0y\n", 2, "the line holds a NUL byte (not a text file?)", 12 },

	/* Numbers and sizes */
	{ "bad number", BASE "map d 0x1g 0 4K\n", 4,
	  "IOVA '0x1g' is not a number (expected decimal or 0x hex)" },
	{ "sign", BASE "map d -1 0 4K\n", 4,
	  "IOVA '-1' is not a number (expected decimal or 0x hex)" },
	{ "no suffix on an address", BASE "map d 4K 0 4K\n", 4,
	  "IOVA '4K' is not a number (expected decimal or 0x hex)" },
	{ "65 bits", BASE "map d 0x10000000000000000 0 4K\n", 4,
	  "IOVA '0x10000000000000000' does not fit in 64 bits" },
	{ "bad PA", BASE "map d 0 x 4K\n", 4, "PA 'x' is not a number (expected decimal or 0x hex)" },
	{ "bad size", BASE "map d 0 0 4Q\n", 4,
	  "SIZE '4Q' is not a size (expected a number, optionally with K, M or G)" },
	{ "size past 64 bits", BASE "map d 0 0 0xffffffffffffffffK\n", 4,
	  "SIZE '0xffffffffffffffffK' does not fit in 64 bits" },

	/* iommu */
	{ "iommu name starts with a digit", "iommu 0abc\n", 1,
	  "iommu name '0abc' is not a letter followed by letters, digits, '_' or '-' "
	  "(at most 15 characters)" },
	{ "iommu name with a dot", "iommu dmar.0\n", 1,
	  "iommu name 'dmar.0' is not a letter followed by letters, digits, '_' or '-' "
	  "(at most 15 characters)" },
	{ "iommu name too long", "iommu abcdefghijklmnop\n", 1,
	  "iommu name 'abcdefghijklmnop' is not a letter followed by letters, digits, '_' "
	  "or '-' (at most 15 characters)" },
	{ "iommu named like a model counter", "iommu iotlb\n", 1,
	  "iommu name 'iotlb' is the first word of a counter name; pick another (e.g. dmar0)" },
	{ "iommu named like a libvtd counter", "iommu qi\n", 1,
	  "iommu name 'qi' is the first word of a counter name; pick another (e.g. dmar0)" },
	{ "iommu twice", "iommu a\n\niommu a\n", 3, "iommu 'a' is declared twice (first at line 1)" },
	{ "nine iommus", "iommu a1\niommu a2\niommu a3\niommu a4\niommu a5\niommu a6\n"
	  "iommu a7\niommu a8\niommu a9\n", 9, "more than 8 iommus" },
	{ "unknown iommu key", "iommu a foo=1\n", 1, "unknown iommu key 'foo'" },
	{ "iommu key out of range", "iommu a cm=2\n", 1, "iommu key 'cm': '2' is not a number in 0..1" },
	{ "iommu caching profile", "iommu a caching=lazy\n", 1,
	  "iommu key 'caching': 'lazy' is not exact or adversarial" },
	{ "iommu keys that contradict", "iommu a dt=1 qi=0\n", 1,
	  "iommu 'a': dt=1 needs qi=1 (device-TLB invalidation is queued only)" },
	{ "iommu key twice", "iommu a cm=1 cm=0\n", 1, "key 'cm' is given twice" },
	{ "iommu after the build", BASE "iommu b\n", 4,
	  "iommu after the machine was built (by line 3)" },

	/* device */
	{ "device without iommu", "iommu a\ndevice 00:01.0\n", 2,
	  "missing iommu=NAME (usage: device BDF iommu=NAME [ats=0|1] [qdep=N] [trusted=0|1] "
	  "[KEY=VALUE]...)" },
	{ "device behind an unknown iommu", "iommu a\ndevice 00:01.0 iommu=b\n", 2,
	  "unknown iommu 'b'" },
	{ "device BDF", "iommu a\ndevice 00:20.0 iommu=a\n", 2, "SID '00:20.0': device 20 is above 1f" },
	{ "device BDF syntax", "iommu a\ndevice 0:1:2:3 iommu=a\n", 2,
	  "SID '0:1:2:3' is not BB:DD.F or SSSS:BB:DD.F (hex)" },
	{ "device twice", "iommu a\ndevice 00:01.0 iommu=a\ndevice 0x8 iommu=a\n", 3,
	  "device 00:01.0 is declared twice (first at line 2)" },
	{ "unknown device key", "iommu a\ndevice 00:01.0 iommu=a foo=1\n", 2,
	  "unknown device key 'foo'" },
	{ "device qdep", "iommu a\ndevice 00:01.0 iommu=a qdep=33\n", 2,
	  "device key 'qdep': '33' is not a number in 0..32" },
	{ "device after the build", BASE "device 00:02.0 iommu=a\n", 4,
	  "device after the machine was built (by line 3)" },

	/* domain */
	{ "domain stage", "iommu a\ndomain d stage=3\n", 2, "stage '3' is not 1 or 2" },
	{ "domain levels", "iommu a\ndomain d levels=6\n", 2, "levels '6' is not 3, 4 or 5" },
	{ "domain twice", BASE "domain d\n", 4, "domain 'd' is declared twice (first at line 3)" },
	{ "domain name", "iommu a\ndomain 9\n", 2,
	  "domain name '9' is not a letter followed by letters, digits, '_' or '-' "
	  "(at most 15 characters)" },

	/* Names in operations */
	{ "unknown domain", BASE "map e 0 0 4K\n", 4, "unknown domain 'e'" },
	{ "domain used before its line", "iommu a\ndevice 00:01.0 iommu=a\nattach 00:01.0 d\n"
	  "domain d\n", 3, "unknown domain 'd'" },
	{ "unknown device", BASE "attach 00:02.0 d\n", 4,
	  "unknown device '00:02.0' (no device line declares it)" },
	{ "bad BDF in an operation", BASE "dma 1:2 0 4 read\n", 4,
	  "SID '1:2' is not BB:DD.F or SSSS:BB:DD.F (hex)" },

	/* map, unmap, dma */
	{ "map perm", BASE "map d 0 0 4K perm=x\n", 4, "perm 'x' is not r, w or rw" },
	{ "map PA into the table pool", BASE "map d 0 0xfff0000 0x20000\n", 4,
	  "PA range 0xfff0000 + 0x20000 does not end below 256 MiB (DMA data lives there; "
	  "libvtd's tables above)" },
	{ "map PA far away", BASE "map d 0 0xffffffffffff0000 64K\n", 4,
	  "PA range 0xffffffffffff0000 + 0x10000 does not end below 256 MiB (DMA data lives "
	  "there; libvtd's tables above)" },
	{ "unmap unmapped=", BASE "unmap d 0 4K unmapped=x\n", 4,
	  "unmapped 'x' is not a size (expected a number, optionally with K, M or G)" },
	{ "dma direction", BASE "dma 00:01.0 0 4 sideways\n", 4,
	  "direction 'sideways' is not read or write" },
	{ "dma expect", BASE "dma 00:01.0 0 4 read expect=maybe\n", 4,
	  "expect 'maybe' is not ok or fault" },
	{ "dma size 0", BASE "dma 00:01.0 0 0 read\n", 4, "SIZE '0' is not 1 byte to 1M" },
	{ "dma size 2M", BASE "dma 00:01.0 0 2M read\n", 4, "SIZE '2M' is not 1 byte to 1M" },

	/* expect */
	{ "expect alone", BASE "expect\n", 4,
	  "missing what to expect (usage: expect counter NAME OP VALUE, expect delta NAME OP "
	  "VALUE, expect qi, or expect mode DOMAIN MODE)" },
	{ "expect what", BASE "expect nothing\n", 4,
	  "unknown expectation 'nothing' (expect counter, expect delta, expect qi or expect mode)" },
	{ "expect counter without value", BASE "expect counter qi.submit ==\n", 4,
	  "missing VALUE (usage: expect counter NAME OP VALUE)" },
	{ "expect counter operator", BASE "expect counter qi.submit => 1\n", 4,
	  "operator '=>' is not one of == != < <= > >=" },
	{ "expect counter value", BASE "expect counter qi.submit == one\n", 4,
	  "VALUE 'one' is not a number (expected decimal or 0x hex)" },
	{ "expect counter extra", BASE "expect counter qi.submit == 1 2\n", 4,
	  "unexpected argument '2' (usage: expect counter NAME OP VALUE)" },
	{ "expect delta first", "iommu a\nexpect delta qi.submit == 1\n", 2,
	  "expect delta before any operation (it compares a counter across the operation "
	  "before it)" },
	{ "expect qi first", "iommu a\nexpect qi\nend\n", 2,
	  "expect qi before any operation (it lists the descriptors the operation before it "
	  "submitted)" },
	{ "expect qi argument", BASE "expect qi now\nend\n", 4,
	  "unexpected argument 'now' (usage: expect qi)" },

	/* thread blocks, explore and inject (docs/checker.md) */
	{ "thread without end", BASE "thread t cpu\nmap d 0 0 4K\n", 4, "thread block has no 'end'" },
	{ "thread without steps", BASE "thread t cpu\nend\n", 5,
	  "thread 't' of line 4 has no steps" },
	{ "thread kind", BASE "thread t gpu\n", 4, "thread kind 'gpu' is not cpu or dma" },
	{ "dma thread without device", BASE "thread t dma\n", 4,
	  "missing BDF (usage: thread NAME dma BDF)" },
	{ "cpu thread with a device", BASE "thread t cpu 00:01.0\n", 4,
	  "unexpected argument '00:01.0' (usage: thread NAME cpu)" },
	{ "thread twice", BASE "thread t cpu\nflush d\nend\nthread t cpu\n", 7,
	  "thread 't' is declared twice (first on line 4)" },
	{ "thread in thread", BASE "thread t cpu\nthread u cpu\n", 5,
	  "thread block inside the thread block of line 4" },
	{ "dma in a cpu thread", BASE "thread t cpu\ndma 00:01.0 0 4 read\n", 5,
	  "'dma' inside cpu thread 't' of line 4 (a cpu thread runs attach, detach, map, unmap, "
	  "flush, dma_map, dma_unmap, advance, repeat and gather; a dma thread runs dma, advance "
	  "and repeat)" },
	{ "expect in a thread", BASE "thread t cpu\nexpect counter qi.submit == 0\n", 5,
	  "'expect' inside cpu thread 't' of line 4 (a cpu thread runs attach, detach, map, "
	  "unmap, flush, dma_map, dma_unmap, advance, repeat and gather; a dma thread runs dma, "
	  "advance and repeat)" },
	{ "dma expect= in a thread", BASE "thread t dma 00:01.0\ndma 00:01.0 0 4 read expect=ok\n",
	  5, "expect= inside thread 't' (the checker judges every DMA of a thread)" },
	{ "other device in a dma thread",
	  "iommu a\ndevice 00:01.0 iommu=a\ndevice 00:02.0 iommu=a\n"
	  "thread t dma 00:01.0\ndma 00:02.0 0 4 read\n", 5,
	  "dma from 00:02.0 inside the dma thread of 00:01.0 (line 4)" },
	{ "step after the threads", BASE "thread t cpu\nflush d\nend\nflush d\n", 7,
	  "'flush' after the thread blocks (only thread, explore and inject lines may follow "
	  "them)" },
	{ "unknown knob", BASE "inject no-flush\n", 4,
	  "unknown fault-injection knob 'no-flush' (see docs/checker.md)" },
	{ "explore twice", BASE "explore\nexplore runs=2\n", 5, "a second explore line" },
	{ "explore runs 0", BASE "explore runs=0\n", 4, "runs '0' is not 1 to 100000000" },
	{ "explore bound", BASE "explore preemptions=17\n", 4, "preemptions '17' is more than 16" },
	{ "explore key", BASE "explore depth=3\n", 4,
	  "unknown key 'depth' (usage: explore [runs=N] [seed=S] [preemptions=K])" },

	/* expect qi blocks */
	{ "block without end", BASE "expect qi\n  iotlb_inv a: 0 0 0 0\n", 4,
	  "expect qi block has no 'end'" },
	{ "end alone", BASE "end\n", 4, "'end' without 'expect qi', 'repeat', 'gather' or 'thread'" },
	{ "end with an argument", BASE "expect qi\nend now\n", 5,
	  "unexpected argument 'now' (usage: end)" },
	{ "command inside a block", BASE "expect qi\nmap d 0 0 4K\nend\n", 5,
	  "'map' inside the expect qi block of line 4 (missing 'end'?)" },
	{ "expect inside a block", BASE "expect qi\nexpect qi\nend\n", 5,
	  "'expect' inside the expect qi block of line 4 (missing 'end'?)" },
	{ "descriptor type", BASE "expect qi\n  foo_inv a: 0 0 0 0\nend\n", 5,
	  "'foo_inv' is not a descriptor type (cc_inv, iotlb_inv, dev_tlb_inv, iec_inv, "
	  "inv_wait, p_iotlb_inv, pc_inv, p_dev_tlb_inv, page_grp_resp, page_strm_resp)" },
	{ "type 'unknown'", BASE "expect qi\n  unknown a: 0 0 0 0\nend\n", 5,
	  "'unknown' is not a descriptor type (cc_inv, iotlb_inv, dev_tlb_inv, iec_inv, "
	  "inv_wait, p_iotlb_inv, pc_inv, p_dev_tlb_inv, page_grp_resp, page_strm_resp)" },
	{ "missing unit", BASE "expect qi\n  iotlb_inv\nend\n", 5,
	  "missing UNIT: (usage: TYPE UNIT: QW0 QW1 QW2 QW3, or end)" },
	{ "unit without colon", BASE "expect qi\n  iotlb_inv a 0 0 0 0\nend\n", 5,
	  "'a' is not a unit name followed by ':' (usage: TYPE UNIT: QW0 QW1 QW2 QW3, or end)" },
	{ "unknown unit", BASE "expect qi\n  iotlb_inv b: 0 0 0 0\nend\n", 5, "unknown iommu 'b'" },
	{ "missing qword", BASE "expect qi\n  iotlb_inv a: 0x200f2 0x10042\nend\n", 5,
	  "missing QW2 (usage: TYPE UNIT: QW0 QW1 QW2 QW3, or end)" },
	{ "bad qword", BASE "expect qi\n  iotlb_inv a: 0 zz 0 0\nend\n", 5,
	  "QW1 'zz' is not a number (expected decimal or 0x hex)" },
	{ "extra qword", BASE "expect qi\n  iotlb_inv a: 0 0 0 0 0\nend\n", 5,
	  "unexpected argument '0' (usage: TYPE UNIT: QW0 QW1 QW2 QW3, or end)" },

	/* The DMA API layer: device trust, domain options, expected errors */
	{ "device trusted", "iommu a\ndevice 00:01.0 iommu=a trusted=yes\n", 2,
	  "trusted 'yes' is not 0 or 1" },
	{ "domain mode", "iommu a\ndomain d mode=lax\n", 2,
	  "mode 'lax' is not strict, lazy or lazy-ranged" },
	{ "domain force", "iommu a\ndomain d force=2\n", 2, "force '2' is not 0 or 1" },
	{ "domain unit", "iommu a\ndomain d unit=b\n", 2, "unknown iommu 'b'" },
	{ "domain fq_size", "iommu a\ndomain d fq_size=many\n", 2,
	  "fq_size 'many' is not a number (expected decimal or 0x hex)" },
	{ "domain fq_timeout", "iommu a\ndomain d fq_timeout=1ms\n", 2,
	  "fq_timeout '1ms' is not a number (expected decimal or 0x hex)" },
	{ "domain ranged_max", "iommu a\ndomain d ranged_max=x\n", 2,
	  "ranged_max 'x' is not a number (expected decimal or 0x hex)" },
	{ "domain fq_size above 32 bits", "iommu a\ndomain d fq_size=0x100000000\n", 2,
	  "fq_size is more than 0xffffffff" },
	{ "domain ranged_max above 32 bits", "iommu a\ndomain d ranged_max=0x100000000\n", 2,
	  "ranged_max is more than 0xffffffff" },
	{ "attach expect", BASE "attach 00:01.0 d expect=EINVAL\n", 4,
	  "expect 'EINVAL' is not ok or -ERRNO (-EINVAL, -EBUSY, ...)" },
	{ "attach expect unknown errno", BASE "attach 00:01.0 d expect=-EWHAT\n", 4,
	  "expect '-EWHAT' is not ok or -ERRNO (-EINVAL, -EBUSY, ...)" },

	/* dma_map, dma_unmap, variables */
	{ "dma_map without as", BASE "dma_map 00:01.0 4K at b\n", 4,
	  "'at' where 'as' belongs (usage: dma_map BDF SIZE as VAR [perm=r|w|rw] [pa=PA])" },
	{ "dma_map missing VAR", BASE "dma_map 00:01.0 4K as\n", 4,
	  "missing VAR (usage: dma_map BDF SIZE as VAR [perm=r|w|rw] [pa=PA])" },
	{ "dma_map variable name", BASE "dma_map 00:01.0 4K as 9b\n", 4,
	  "variable name '9b' is not a letter followed by letters, digits, '_' or '-' "
	  "(at most 15 characters)" },
	{ "dma_map as i", BASE "dma_map 00:01.0 4K as i\n", 4,
	  "variable name 'i' is the repeat counter; pick another" },
	{ "dma_map size", BASE "dma_map 00:01.0 0 as b\n", 4, "SIZE '0' is not 1 byte to 128M" },
	{ "dma_map size suffix", BASE "dma_map 00:01.0 4Q as b\n", 4,
	  "SIZE '4Q' is not a size (expected a number, optionally with K, M or G)" },
	{ "dma_map perm", BASE "dma_map 00:01.0 4K as b perm=x\n", 4,
	  "perm 'x' is not r, w or rw" },
	{ "dma_map pa", BASE "dma_map 00:01.0 4K as b pa=z\n", 4,
	  "pa 'z' is not a number (expected decimal or 0x hex)" },
	{ "dma_map pa into the pool", BASE "dma_map 00:01.0 8K as b pa=0xffff000\n", 4,
	  "PA range 0xffff000 + 0x2000 does not end below 256 MiB (DMA data lives there; "
	  "libvtd's tables above)" },
	{ "dma_map unknown device", BASE "dma_map 00:02.0 4K as b\n", 4,
	  "unknown device '00:02.0' (no device line declares it)" },
	{ "dma_unmap unknown variable", BASE "dma_unmap 00:01.0 b\n", 4,
	  "unknown variable '$b' (no dma_map ... as b line before it)" },
	{ "variable used before its dma_map", BASE "dma 00:01.0 $b 4 read\n"
	  "dma_map 00:01.0 4K as b\n", 4,
	  "unknown variable '$b' (no dma_map ... as b line before it)" },
	{ "dma_unmap of an expression needs size=", BASE "dma_map 00:01.0 8K as b\n"
	  "dma_unmap 00:01.0 $b+4K\n", 5,
	  "dma_unmap of '$b+4K' needs size= (only a bare VAR remembers its size)" },
	{ "dma_unmap of a number needs size=", BASE "dma_unmap 00:01.0 0x1000\n", 4,
	  "dma_unmap of '0x1000' needs size= (only a bare VAR remembers its size)" },
	{ "dma_unmap size", BASE "dma_map 00:01.0 8K as b\ndma_unmap 00:01.0 b size=x\n", 5,
	  "size 'x' is not a size (expected a number, optionally with K, M or G)" },
	{ "IOVA $ alone", BASE "map d $ 0 4K\n", 4, "IOVA '$' is not $VAR[*SCALE][+OFFSET]" },
	{ "IOVA $+", BASE "map d $+4K 0 4K\n", 4, "IOVA '$+4K' is not $VAR[*SCALE][+OFFSET]" },
	{ "IOVA unknown variable", BASE "unmap d $x 4K\n", 4,
	  "unknown variable '$x' (no dma_map ... as x line before it)" },
	{ "IOVA offset", BASE "dma_map 00:01.0 4K as b\ndma 00:01.0 $b+x 4 read\n", 5,
	  "OFFSET 'x' is not a size (expected a number, optionally with K, M or G)" },
	{ "IOVA scale", BASE "repeat 2\nmap d $i*y 0 4K\nend\n", 5,
	  "SCALE 'y' is not a size (expected a number, optionally with K, M or G)" },
	{ "$i outside repeat", BASE "map d $i 0 4K\n", 4, "$i outside a repeat block" },

	/* advance, repeat, expect mode */
	{ "advance NS", BASE "advance 10ms\n", 4,
	  "NS '10ms' is not a number (expected decimal or 0x hex)" },
	{ "advance without NS", BASE "advance\n", 4, "missing NS (usage: advance NS)" },
	{ "repeat N", BASE "repeat many\nend\n", 4,
	  "N 'many' is not a number (expected decimal or 0x hex)" },
	{ "repeat N above 32 bits", BASE "repeat 0x100000000\nend\n", 4,
	  "N '0x100000000' is more than 0xffffffff" },
	{ "repeat without end", BASE "repeat 3\nflush d\n", 4, "repeat block has no 'end'" },
	{ "repeat end with an argument", BASE "repeat 3\nflush d\nend now\n", 6,
	  "unexpected argument 'now' (usage: end)" },
	{ "expect inside repeat", BASE "repeat 3\nflush d\nexpect counter wbf == 0\nend\n", 6,
	  "'expect' inside the repeat block of line 4 (only attach, detach, map, unmap, flush, "
	  "dma, dma_map, dma_unmap and advance repeat)" },
	{ "repeat inside repeat", BASE "repeat 3\nrepeat 2\nend\nend\n", 5,
	  "'repeat' inside the repeat block of line 4 (only attach, detach, map, unmap, flush, "
	  "dma, dma_map, dma_unmap and advance repeat)" },
	{ "domain inside repeat", BASE "repeat 3\ndomain e\nend\n", 5,
	  "'domain' inside the repeat block of line 4 (only attach, detach, map, unmap, flush, "
	  "dma, dma_map, dma_unmap and advance repeat)" },
	{ "expect mode domain", BASE "expect mode e strict\n", 4, "unknown domain 'e'" },
	{ "expect mode mode", BASE "expect mode d eager\n", 4,
	  "mode 'eager' is not strict, lazy or lazy-ranged" },
	{ "gather without end", BASE "gather d\nunmap d 0 4K\n", 4, "gather block has no 'end'" },
	{ "gather domain", BASE "gather e\nend\n", 4, "unknown domain 'e'" },
	{ "map inside gather", BASE "gather d\nmap d 0 0 4K\nend\n", 5,
	  "'map' inside the gather block of line 4 (only unmap lines gather)" },
	{ "unmap of another domain inside gather", BASE "domain e\ngather d\nunmap e 0 4K\nend\n",
	  6, "unmap of domain 'e' inside the gather block of line 5, which gathers for 'd'" },
	{ "gather inside repeat", BASE "repeat 2\ngather d\nend\nend\n", 5,
	  "'gather' inside the repeat block of line 4 (only attach, detach, map, unmap, flush, "
	  "dma, dma_map, dma_unmap and advance repeat)" },
	{ "expect mode missing mode", BASE "expect mode d\n", 4,
	  "missing strict|lazy|lazy-ranged (usage: expect mode DOMAIN strict|lazy|lazy-ranged)" },
};

TEST(scenario_bad_lines)
{
	for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		const struct bad *b = &bad_rows[i];
		struct scenario_error e;
		struct scenario *s;
		bool failed_before = th_test_failed();

		s = scenario_parse(b->text, b->len ? b->len : strlen(b->text), &e);
		EXPECT_NULL(s);
		scenario_free(s);
		EXPECT_EQ(b->line, e.line);
		EXPECT_STREQ(b->msg, e.msg);
		if (!failed_before && th_test_failed())
			TH_LOG("in row \"%s\"", b->what);
	}
}

static struct scenario *parse_ok(const char *text)
{
	struct scenario_error e;
	struct scenario *s = scenario_parse(text, strlen(text), &e);

	if (!s)
		TH_LOG("line %d: %s", e.line, e.msg);
	ASSERT_NONNULL(s);
	return s;
}

TEST(scenario_empty_file)
{
	struct scenario *s = parse_ok("");

	EXPECT_EQ(0, scenario_nr_steps(s));
	scenario_free(s);
	s = parse_ok("# nothing but a comment\n\n   \t\n");
	EXPECT_EQ(0, scenario_nr_steps(s));
	scenario_free(s);
}

/* Declarations are not steps; every operation and expectation is one. */
TEST(scenario_steps)
{
	struct scenario *s = parse_ok(
		"iommu dmar0 cm=1 psi=1 mamv=18 caching=adversarial\n"
		"iommu dmar1 sm=1 dt=1\n"
		"device 00:01.0 iommu=dmar0\n"
		"device 00:02.0 iommu=dmar1 ats=1 qdep=8\n"
		"domain d\n"
		"domain f stage=1 levels=4\n"
		"attach 00:01.0 d\n"
		"map d 0x10000 0x100000 16K perm=rw\n"
		"expect qi\n"
		"  iotlb_inv dmar0: 0x200f2 0x10002 0x0 0x0\n"
		"end\n"
		"expect delta qi.submit == 1\n"
		"expect counter iotlb.hit >= 0\n"
		"dma 00:01.0 0x10000 16K write expect=ok\n"
		"unmap d 0x10000 16K unmapped=16K\n"
		"flush d\n"
		"detach 00:01.0\n");

	EXPECT_EQ(11, scenario_nr_steps(s));
	scenario_free(s);
}

/* '#' starts a comment anywhere; blanks are spaces and tabs; CRLF is fine. */
TEST(scenario_comments_blanks_crlf)
{
	struct scenario *s = parse_ok(
		"iommu a#no blank needed before the comment\r\n"
		"\tdevice\t00:01.0   iommu=a   # trailing\r\n"
		"domain d\r\n"
		"map d 0x1000 0x2000 4K#comment\r\n"
		"\r\n"
		"expect qi # the block's lines may be indented and commented too\r\n"
		"   # a comment line inside the block\r\n"
		"end\r\n"
		"flush d");	/* no newline at the end */

	EXPECT_EQ(4, scenario_nr_steps(s));
	scenario_free(s);
}

/* Keys may come anywhere after the command; operators are not keys. */
TEST(scenario_keys_anywhere)
{
	struct scenario *s = parse_ok(BASE
		"map perm=r d 0x1000 0x2000 4K\n"
		"dma expect=fault 00:01.0 0x1000 4 write\n"
		"expect counter fault >= 1\n"
		"expect counter fault <= 1\n"
		"expect counter fault != 2\n");

	EXPECT_EQ(6, scenario_nr_steps(s));
	scenario_free(s);
}

/* Decimal, 0x hex (either case), K/M/G sizes; a leading 0 is not octal. */
TEST(scenario_numbers)
{
	struct scenario *s = parse_ok(BASE
		"map d 4096 0X2000 0x1K\n"
		"map d 010 0x3000 4k\n"		/* 10: libvtd refuses it at run time */
		"unmap d 0x1000 1M\n"
		"map d 0 0 0x10000000\n"
		"map d 0 0x0fffe000 8K\n"
		"expect counter time.ns < 0xffffffffffffffff\n"
		"dma 0x8 0 1M read expect=fault\n");

	EXPECT_EQ(8, scenario_nr_steps(s));
	scenario_free(s);
}

/* An empty expect qi block says "no descriptors at all". */
TEST(scenario_empty_qi_block)
{
	struct scenario *s = parse_ok(BASE "expect qi\nend\n");

	EXPECT_EQ(2, scenario_nr_steps(s));
	scenario_free(s);
}

/* The first bad line stops the parse, even with later bad lines. */
TEST(scenario_first_error_wins)
{
	static const char text[] = BASE "flush x\nfrob\n";
	struct scenario_error e;

	EXPECT_NULL(scenario_parse(text, sizeof(text) - 1, &e));
	EXPECT_EQ(4, e.line);
	EXPECT_STREQ("unknown domain 'x'", e.msg);
}

/* ---------------------------------------------------------------- running */

/* The outcome of scenario_run on @text, with what it wrote to out and err. */
struct ran {
	int status;
	char *out, *err;
	size_t outlen, errlen;
};

static void run_text(const char *name, const char *text, unsigned flags, struct ran *r)
{
	struct scenario_error e;
	struct scenario *s = scenario_parse(text, strlen(text), &e);
	FILE *out, *err;

	if (!s)
		TH_LOG("line %d: %s", e.line, e.msg);
	ASSERT_NONNULL(s);
	out = open_memstream(&r->out, &r->outlen);
	err = open_memstream(&r->err, &r->errlen);
	ASSERT_NONNULL(out);
	ASSERT_NONNULL(err);
	r->status = scenario_run(s, name, out, err, flags);
	fclose(out);
	fclose(err);
	scenario_free(s);
}

static void ran_free(struct ran *r)
{
	free(r->out);
	free(r->err);
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* ---- a strict JSON checker (RFC 8259), so the tests need no tool ---- */

static const char *json_value(const char *p, int depth);

static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* A string, with valid escapes, no raw control characters, valid UTF-8. */
static const char *json_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20)
			return NULL;
		if (c == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
						return NULL;
				p += 5;
			} else if (*p && strchr("\"\\/bfnrt", *p)) {
				p++;
			} else {
				return NULL;
			}
			continue;
		}
		if (c < 0x80) {
			p++;
			continue;
		}
		int n = (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;

		if (n < 0 || c == 0xc0 || c == 0xc1 || c > 0xf4)
			return NULL;
		for (int i = 1; i <= n; i++)
			if (((unsigned char)p[i] & 0xc0) != 0x80)
				return NULL;
		p += n + 1;
	}
	return p + 1;
}

static const char *json_number(const char *p)
{
	const char *start = p;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	return p > start ? p : NULL;
}

static const char *json_value(const char *p, int depth)
{
	p = json_ws(p);
	if (depth > 16)
		return NULL;
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		bool obj = *p == '{';

		p = json_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (obj) {
				p = json_string(json_ws(p));
				if (!p)
					return NULL;
				p = json_ws(p);
				if (*p++ != ':')
					return NULL;
			}
			p = json_value(p, depth + 1);
			if (!p)
				return NULL;
			p = json_ws(p);
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	}
	if (*p == '"')
		return json_string(p);
	if (!strncmp(p, "true", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	if (!strncmp(p, "null", 4))
		return p + 4;
	return json_number(p);
}

static bool json_valid(const char *text)
{
	const char *end = json_value(text, 0);

	return end && !*json_ws(end);
}

TEST(scenario_json_checker_checks)
{
	EXPECT_TRUE(json_valid("{\"a\": [1, true, null, \"\\u00e9\\n\"], \"b\": {}}\n"));
	EXPECT_FALSE(json_valid("{\"a\": 1,}"));
	EXPECT_FALSE(json_valid("{\"a\": \"tab\there\"}"));
	EXPECT_FALSE(json_valid("{\"a\": \"\xff\"}"));
	EXPECT_FALSE(json_valid("{\"a\": \"\\x\"}"));
	EXPECT_FALSE(json_valid("{\"a\": 1} x"));
}

#define MACHINE	"iommu dmar0\ndevice 00:01.0 iommu=dmar0\ndomain d\nattach 00:01.0 d\n"

TEST(scenario_ok_run)
{
	struct ran r = { 0 };

	run_text("t.vtd", MACHINE
		 "map d 0x10000 0x100000 16K\n"
		 "dma 00:01.0 0x10000 4 write\n"
		 "unmap d 0x10000 16K\n"
		 "expect qi\n  iotlb_inv dmar0: 0x200f2 0x10042 0x0 0x0\nend\n"
		 "expect delta qi.submit == 1\n"
		 "dma 00:01.0 0x10000 4 read expect=fault\n"
		 "expect counter fault == 1\n"
		 "expect counter model.fault == 1\n", 0, &r);
	EXPECT_EQ(0, r.status);
	EXPECT_STREQ("", r.err);
	EXPECT_STREQ("", r.out);
	ran_free(&r);
}

TEST(scenario_trace_lines)
{
	struct ran r = { 0 };

	run_text("t.vtd", MACHINE "map d 0x10000 0x100000 16K\nunmap d 0x10000 16K\n",
		 SCENARIO_TRACE, &r);
	EXPECT_EQ(0, r.status);
	EXPECT_NONNULL(strstr(r.out, "\nmap: IOMMU: iova=0x0000000000010000 - "
				     "0x0000000000014000 paddr=0x0000000000100000 size=16384\n"));
	EXPECT_NONNULL(strstr(r.out, "\nqi_submit: iotlb_inv dmar0: 0x200f2 0x10042 0x0 0x0\n"));
	/* The build's own global invalidations are traced too, first. */
	EXPECT_TRUE(starts_with(r.out, "qi_submit: cc_inv dmar0: 0x11 0x0 0x0 0x0\n"));
	ran_free(&r);
}

/* A failed expectation is reported and the run goes on; status 1. */
TEST(scenario_failures_continue)
{
	struct ran r = { 0 };

	run_text("t.vtd", MACHINE
		 "expect counter qi.submit == 5\n"
		 "map d 0x10000 0x100000 4K\n"
		 "dma 00:01.0 0x10000 4 read expect=fault\n"
		 "expect counter qi.submit == 1\n", 0, &r);
	EXPECT_EQ(1, r.status);
	EXPECT_STREQ("t.vtd:5: expectation failed: counter qi.submit is 1, expected == 5\n"
		     "t.vtd:7: expectation failed: dma read of 0x4 bytes at IOVA 0x10000 from "
		     "00:01.0 reached PA 0x100000, expected a fault\n", r.err);
	ran_free(&r);
}

/* A call that fails stops the run at its line: status 2, nothing after. */
TEST(scenario_errors_stop)
{
	struct ran r = { 0 };

	run_text("t.vtd", MACHINE "map d 0x10000 0x100000 4K\nmap d 0x10000 0x200000 4K\n"
		 "expect counter qi.submit == 99\n", 0, &r);
	EXPECT_EQ(2, r.status);
	EXPECT_STREQ("t.vtd:6: vtd_map failed: -EEXIST (File exists)\n", r.err);
	ran_free(&r);

	run_text("t.vtd", MACHINE "expect counter no.such.thing == 0\n"
		 "expect counter qi.submit == 99\n", 0, &r);
	EXPECT_EQ(2, r.status);
	EXPECT_STREQ("t.vtd:5: unknown counter 'no.such.thing' (vtdkit run --stats lists them)\n",
		     r.err);
	ran_free(&r);

	/* An expect delta's counter is read before its operation runs. */
	run_text("t.vtd", MACHINE "flush d\nexpect delta nope == 0\n", 0, &r);
	EXPECT_EQ(2, r.status);
	EXPECT_STREQ("t.vtd:6: unknown counter 'nope' (vtdkit run --stats lists them)\n", r.err);
	ran_free(&r);

	/* A declaration libvtd refuses: reported at its own line. */
	run_text("t.vtd", "iommu dmar0\ndevice 00:01.0 iommu=dmar0 ats=1\ndomain d\n", 0, &r);
	EXPECT_EQ(2, r.status);
	EXPECT_STREQ("t.vtd:2: vtd_device_add failed: -EINVAL (Invalid argument)\n", r.err);
	ran_free(&r);
}

/* Quotes, backslashes, control characters and bad UTF-8 stay valid JSON. */
TEST(scenario_json_escapes)
{
	static const char name[] = "we\"ird\\name\t\x01\xff\xc3\xa9.vtd";
	struct scenario_error e = { 7, "bad \"line\"\n\x02\xc0\xaf" };
	struct ran r = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	run_text(name, MACHINE "expect counter qi.submit == 5\nmap d 0 0 1\n", SCENARIO_JSON,
		 &r);
	EXPECT_EQ(2, r.status);
	EXPECT_TRUE(json_valid(r.out));
	EXPECT_NONNULL(strstr(r.out, "\"scenario\": \"we\\\"ird\\\\name\\t\\u0001\\ufffd\xc3\xa9.vtd\""));
	EXPECT_NONNULL(strstr(r.out, "\"ok\": false"));
	EXPECT_NONNULL(strstr(r.out, "\"error\": {\"line\": 6, \"message\": \"vtd_map failed: "
				     "-EINVAL (Invalid argument)\"}"));
	EXPECT_NONNULL(strstr(r.out, "\"failures\": [{\"line\": 5, \"message\": \"counter "
				     "qi.submit is 1, expected == 5\"}]"));
	EXPECT_NONNULL(strstr(r.out, "\"qi.submit\": 1,"));
	if (th_test_failed())
		TH_LOG("%s", r.out);
	ran_free(&r);

	f = open_memstream(&buf, &len);
	ASSERT_NONNULL(f);
	scenario_json_error(f, name, &e);
	fclose(f);
	EXPECT_TRUE(json_valid(buf));
	EXPECT_NONNULL(strstr(buf, "\"message\": \"bad \\\"line\\\"\\n\\u0002\\ufffd\\ufffd\""));
	free(buf);
}

TEST(scenario_json_ok)
{
	struct ran r = { 0 };

	run_text("t.vtd", MACHINE "map d 0x10000 0x100000 16K\n", SCENARIO_JSON | SCENARIO_STATS,
		 &r);
	EXPECT_EQ(0, r.status);
	EXPECT_TRUE(json_valid(r.out));
	EXPECT_TRUE(starts_with(r.out, "{\"scenario\": \"t.vtd\", \"ok\": true, \"failures\": [], "
				   "\"counters\": {\"qi.submit\": 1, "));
	ran_free(&r);
}

/*
 * Every name --stats prints reads back through `expect counter` as the
 * same counter: the model's names that libvtd has too come out as
 * model.NAME. The values are checked at the same point of a second run.
 */
TEST(scenario_stats_names_read_back)
{
	static const char body[] = "iommu dmar0 dt=1\niommu dmar1 rwbf=1\n"
				   "device 00:01.0 iommu=dmar0 ats=1\ndevice 00:02.0 iommu=dmar1\n"
				   "domain d\nattach 00:01.0 d\nattach 00:02.0 d\n"
				   "map d 0x10000 0x100000 16K\ndma 00:01.0 0x10000 16 read\n"
				   "dma 00:02.0 0x20000 16 read expect=fault\n"
				   "unmap d 0x10000 16K\n";
	struct ran r = { 0 }, again = { 0 };
	char *text, *line, *save;
	size_t cap, len, n = 0;
	bool model_wbf = false;

	run_text("t.vtd", body, SCENARIO_STATS, &r);
	ASSERT_EQ(0, r.status);
	cap = strlen(body) + 2 * r.outlen + 64;
	text = malloc(cap);
	ASSERT_NONNULL(text);
	len = (size_t)snprintf(text, cap, "%s", body);
	for (line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128];
		unsigned long long v;

		ASSERT_EQ(2, sscanf(line, "%127s %llu", name, &v));
		model_wbf |= !strcmp(name, "model.dmar1.wbf");
		/* Virtual time moves on while the expectations themselves run. */
		if (strcmp(name, "time.ns"))
			len += (size_t)snprintf(text + len, cap - len, "expect counter %s == %llu\n",
						name, v);
		n++;
	}
	EXPECT_TRUE(model_wbf);
	EXPECT_GT(n, 100);
	run_text("t.vtd", text, 0, &again);
	EXPECT_EQ(0, again.status);
	EXPECT_STREQ("", again.err);
	free(text);
	ran_free(&again);
	ran_free(&r);
}

/* ---- the DMA API layer (include/vtd/dma.h) ---- */

/* Caching mode forces strict on a lazy domain, and the note says so on stdout. */
TEST(scenario_dma_note)
{
	struct ran r = { 0 };

	run_text("t.vtd", "iommu dmar0 cm=1\ndomain d mode=lazy\nexpect mode d strict\n"
		 "domain e mode=lazy force=1\nexpect mode e lazy\n", 0, &r);
	{
		EXPECT_EQ(0, r.status);
		EXPECT_STREQ("", r.err);
		EXPECT_TRUE(starts_with(r.out, "note: d: "));
		EXPECT_NONNULL(strstr(r.out, "caching mode"));
		/* Once, and not for the forced domain. */
		EXPECT_NULL(strstr(r.out + 1, "note: "));
	}
	ran_free(&r);

	/* A wrong mode is a failed expectation. */
	run_text("t.vtd", "iommu dmar0 cm=1\ndomain d mode=lazy\nexpect mode d lazy\n", 0, &r);
	{
		EXPECT_EQ(1, r.status);
		EXPECT_STREQ("t.vtd:3: expectation failed: domain d is in mode strict, expected "
			     "lazy\n", r.err);
	}
	ran_free(&r);

	/* With --json, stdout holds only the report. */
	run_text("t.vtd", "iommu dmar0 cm=1\ndomain d mode=lazy\n", SCENARIO_JSON, &r);
	EXPECT_TRUE(starts_with(r.out, "{\"scenario\": "));
	ran_free(&r);
}

/* A lazy unmap walks no cache tag: no cache_tag_flush_range line (seed 002). */
TEST(scenario_dma_lazy_no_range_trace)
{
	struct ran r = { 0 };

	run_text("t.vtd", "iommu dmar0\ndevice 00:01.0 iommu=dmar0\ndomain d mode=lazy\n"
		 "attach 00:01.0 d\ndma_map 00:01.0 16K as b\ndma_unmap 00:01.0 b\n"
		 "expect qi\nend\nadvance 10000000\nexpect delta fq.flush == 1\n",
		 SCENARIO_TRACE, &r);
	{
		EXPECT_EQ(0, r.status);
		EXPECT_STREQ("", r.err);
		EXPECT_NONNULL(strstr(r.out, "\nunmap: IOMMU: iova="));
		EXPECT_NULL(strstr(r.out, "cache_tag_flush_range:"));
		EXPECT_NULL(strstr(r.out, "cache_tag_flush_range_np:"));
		EXPECT_NONNULL(strstr(r.out, "\ncache_tag_flush_all: "));
	}
	ran_free(&r);
}

/* attach expect=-ERRNO: the refusal is the expectation; anything else fails it. */
TEST(scenario_attach_expect)
{
	static const char two[] = "iommu dmar0\niommu dmar1 cm=1\ndevice 00:01.0 iommu=dmar0\n"
				  "device 00:02.0 iommu=dmar1\ndomain d unit=dmar0\n";
	struct ran r = { 0 };
	char text[512];

	snprintf(text, sizeof(text), "%sattach 00:02.0 d expect=-EINVAL\n"
		 "attach 00:01.0 d expect=ok\nexpect counter qi.submit >= 1\n", two);
	run_text("t.vtd", text, 0, &r);
	EXPECT_EQ(0, r.status);
	EXPECT_STREQ("", r.err);
	ran_free(&r);

	snprintf(text, sizeof(text), "%sattach 00:01.0 d expect=-EINVAL\n"
		 "attach 00:02.0 d expect=-EBUSY\nflush d\n", two);
	run_text("t.vtd", text, 0, &r);
	EXPECT_EQ(1, r.status);
	EXPECT_STREQ("t.vtd:6: expectation failed: vtd_attach returned 0 (success), expected "
		     "-EINVAL\n"
		     "t.vtd:7: expectation failed: vtd_attach returned -22 (Invalid argument), "
		     "expected -EBUSY\n", r.err);
	ran_free(&r);

	/* Without expect=, a refusal still stops the run. */
	snprintf(text, sizeof(text), "%sattach 00:02.0 d\nflush d\n", two);
	run_text("t.vtd", text, 0, &r);
	EXPECT_EQ(2, r.status);
	EXPECT_STREQ("t.vtd:6: vtd_attach failed: -EINVAL (Invalid argument)\n", r.err);
	ran_free(&r);
}

/* Run-time errors of variables and dma_map/dma_unmap. */
TEST(scenario_dma_run_errors)
{
	struct ran r = { 0 };

	/* Bound by a line that never ran (a repeat of 0). */
	run_text("t.vtd", MACHINE "repeat 0\ndma_map 00:01.0 4K as b\nend\n"
		 "dma 00:01.0 $b 4 read\n", 0, &r);
	EXPECT_EQ(2, r.status);
	EXPECT_STREQ("t.vtd:8: variable '$b' has no value (its dma_map line 6 has not run)\n",
		     r.err);
	ran_free(&r);

	/* dma_map needs the device's domain. */
	run_text("t.vtd", "iommu dmar0\ndevice 00:01.0 iommu=dmar0\ndomain d\n"
		 "dma_map 00:01.0 4K as b\n", 0, &r);
	EXPECT_EQ(2, r.status);
	EXPECT_STREQ("t.vtd:4: device 00:01.0 is attached to no domain\n", r.err);
	ran_free(&r);

	run_text("t.vtd", MACHINE "detach 00:01.0\ndma_map 00:01.0 4K as b\n", 0, &r);
	EXPECT_EQ(2, r.status);
	EXPECT_STREQ("t.vtd:6: device 00:01.0 is attached to no domain\n", r.err);
	ran_free(&r);
}

/* repeat: $i counts from 0; the block is one operation for expect delta/qi. */
TEST(scenario_repeat_and_gather)
{
	struct ran r = { 0 };

	run_text("t.vtd", MACHINE "repeat 16\n  map d $i*4K+0x10000 0x100000 4K\nend\n"
		 "expect delta sync_map.noop == 16\nexpect qi\nend\n"
		 "dma 00:01.0 0x1f000 4 read\ndma 00:01.0 0x20000 4 read expect=fault\n"
		 "gather d\n  unmap d 0x10000 4K\n  unmap d 0x1e000 8K\nend\n"
		 "expect delta gather.sync_early == 1\nexpect delta qi.submit == 2\n"
		 "dma 00:01.0 0x11000 4 read\ndma 00:01.0 0x1f000 4 read expect=fault\n"
		 "repeat 0\n  flush d\nend\nexpect delta qi.submit == 0\n", 0, &r);
	EXPECT_EQ(0, r.status);
	EXPECT_STREQ("", r.err);
	ran_free(&r);

	/* An unmap in a gather checks its bytes as unmap does. */
	run_text("t.vtd", MACHINE "gather d\n  unmap d 0x10000 4K\nend\n", 0, &r);
	EXPECT_EQ(1, r.status);
	EXPECT_STREQ("t.vtd:6: expectation failed: vtd_unmap unmapped 0x0 bytes, expected "
		     "0x1000\n", r.err);
	ran_free(&r);
}

/* The DMA layer's counters and the clock read back by name. */
TEST(scenario_dma_counters)
{
	static const char *const names[] = {
		"fq.flush", "fq.entries", "iova.alloc", "iova.free", "sync_map.noop",
		"gather.sync_early", "time.ns",
	};
	struct ran r = { 0 };
	char text[1024];
	/* The fq and iova counters come with the layer: the mode= line checks for it. */
	size_t len = (size_t)snprintf(text, sizeof(text), "%s",
				      MACHINE "domain q mode=lazy\nadvance 1000\n");

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"expect counter %s >= 0\n", names[i]);
	snprintf(text + len, sizeof(text) - len, "expect delta time.ns >= 1000\n");
	run_text("t.vtd", text, 0, &r);
	{
		EXPECT_EQ(0, r.status);
		EXPECT_STREQ("", r.err);
	}
	ran_free(&r);
}
