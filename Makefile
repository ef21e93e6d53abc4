# vtdkit — GNU Make build.
#   make                      libvtd.a and the vtdkit binary
#   make test                 every test; the last line reads "N passed, N failed"
#   make run                  the main job on its built-in default
#   make bench                the benchmark matrix into bench/results/ (not in test)
#   make SAN=address,undefined test / make SAN=thread test / make CC=clang test
# Each (compiler, sanitizer) pair builds into its own directory, so switching
# between them never mixes objects.

comma := ,
SAN   ?=
OPT   ?= -O2
BUILD ?= build/$(notdir $(firstword $(CC)))$(if $(SAN),-$(subst $(comma),-,$(SAN)))

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-missing-field-initializers
CPPFLAGS += -Iinclude -Isrc -D_GNU_SOURCE
CFLAGS   += -std=c11 $(OPT) -g $(WARN) -pthread -MMD -MP
LDFLAGS  += -pthread
ifneq ($(SAN),)
CFLAGS   += -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=$(SAN)
endif

# Optional: trace-cmd's binary trace.dat through libtracecmd (Debian:
# libtracecmd-dev), found by pkg-config; `make LIBTRACECMD=no` builds
# without it. Its headers are system headers, kept out of -Werror.
LIBTRACECMD ?= $(shell pkg-config --exists libtracecmd 2>/dev/null && echo yes)
ifeq ($(LIBTRACECMD),yes)
CPPFLAGS += -DVTD_HAVE_LIBTRACECMD \
            $(patsubst -I%,-isystem %,$(shell pkg-config --cflags libtracecmd))
LDLIBS   += $(shell pkg-config --libs libtracecmd)
endif

LIB_DIRS  := src/fmt src/model src/core src/host src/check src/bench
LIB_SRCS  := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
TOOL_SRCS := $(wildcard tools/*.c)
TEST_SRCS := tests/harness.c $(wildcard tests/unit/*.c)

LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
TOOL_OBJS := $(TOOL_SRCS:%.c=$(BUILD)/%.o)
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/%.o)

LIB     := $(BUILD)/libvtd.a
VTDKIT  := $(BUILD)/vtdkit
VTDTEST := $(BUILD)/vtdtest

.PHONY: all test run bench valgrind clean
all: $(LIB) $(VTDKIT)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# Rebuilt when libtracecmd comes or goes.
TRACECMD_STAMP := $(BUILD)/.libtracecmd-$(or $(LIBTRACECMD),no)
$(TRACECMD_STAMP):
	@mkdir -p $(dir $@)
	@rm -f $(BUILD)/.libtracecmd-*
	@touch $@
$(BUILD)/src/bench/tracedat.o: $(TRACECMD_STAMP)

$(LIB): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(VTDKIT): $(TOOL_OBJS) $(LIB)
	$(CC) $(CFLAGS) $(TOOL_OBJS) $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

$(VTDTEST): $(TEST_OBJS) $(LIB)
	$(CC) $(CFLAGS) $(TEST_OBJS) $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

$(TEST_OBJS): CPPFLAGS += -Itests

# The unit tests (one TAP program) and the hw-console scripts run from the
# vtdkit binary, as an outside user would; tests/run.sh adds them up.
test: $(VTDTEST) $(VTDKIT)
	@tests/run.sh "$(VTDTEST)" "tests/hw/run.sh $(VTDKIT)" "tests/scenarios/run.sh $(VTDKIT)" \
		"tests/litmus/run.sh $(VTDKIT)" "tests/stress/run.sh $(VTDKIT)" \
		"tests/cli/run.sh $(VTDKIT)" "tests/report/run.sh $(VTDKIT)"

run: $(VTDKIT)
	$(VTDKIT) demo

# The benchmark matrix (docs/benchmarks.md): not part of `make test` or
# .ci/run. Tables, bench.json and the plots go to bench/results/ (committed).
BENCH_DIR := bench/results
bench: $(VTDKIT)
	@mkdir -p $(BENCH_DIR)
	$(VTDKIT) bench --out $(BENCH_DIR) > $(BENCH_DIR)/bench.txt.tmp && \
		mv $(BENCH_DIR)/bench.txt.tmp $(BENCH_DIR)/bench.txt
	@cat $(BENCH_DIR)/bench.txt

# Every unit test in-process under memcheck (no fork), and the demo.
VALGRIND := valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite
# The explorer's fibers and the stress run's threads under valgrind too; a
# found violation exits 1, so valgrind's own errors exit 3 there.
valgrind: $(VTDTEST) $(VTDKIT)
	$(VALGRIND) $(VTDKIT) demo --ops 300 >/dev/null
	$(VALGRIND) $(VTDKIT) demo --registers >/dev/null
	$(VALGRIND) $(VTDKIT) explore tests/litmus/no-devtlb-inv.vtd >/dev/null
	$(subst --error-exitcode=1,--error-exitcode=3,$(VALGRIND)) $(VTDKIT) explore --inject no-devtlb-inv \
		tests/litmus/no-devtlb-inv.vtd >/dev/null; test $$? -eq 1
	$(VALGRIND) $(VTDKIT) stress --ops 300 --seconds 20 >/dev/null
	@tests/run.sh "$(VALGRIND) $(VTDTEST) -n"

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(TOOL_OBJS:.o=.d) $(TEST_OBJS:.o=.d)
