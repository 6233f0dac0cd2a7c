# shunt — one entry point: build, test, demo, bench.
#
#   make            build build/shunt and build/shuntctl
#   make SAN=1      the same with AddressSanitizer + UBSan (into build-san/)
#   make deps       install the Debian packages we need (idempotent)
#   make test       everything CI runs
#   make demo       scratch MariaDB + shunt on 127.0.0.1:6033
#   make vmlinux    regenerate vmlinux.h from the running kernel's BTF

CC       ?= cc
CLANG    ?= clang
BPFTOOL  ?= bpftool
PKGS     := libevent_core libevent_extra libevent_pthreads openssl inih libbpf jansson
SAN      ?= 0

ifeq ($(SAN),1)
BUILD    ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD    ?= build
SANFLAGS :=
endif

WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
ifeq ($(CI),true)
WARN     += -Werror
endif
ifeq ($(WERROR),1)
WARN     += -Werror
endif

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 $(WARN) $(SANFLAGS) -D_GNU_SOURCE -Iinclude -Iuser -I$(BUILD) -MMD -MP \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS  += $(SANFLAGS)
LDLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread

# Daemon sources: every user/*.c; main.c is the only one with main().
USER_SRC := $(wildcard user/*.c user/*/*.c)
USER_OBJ := $(USER_SRC:%.c=$(BUILD)/%.o)
LIB_OBJ  := $(filter-out $(BUILD)/user/main.o,$(USER_OBJ))

# BPF programs: bpf/x.bpf.c -> build/x.bpf.o -> build/x.skel.h
BPF_SRC  := $(wildcard bpf/*.bpf.c)
BPF_OBJ  := $(BPF_SRC:bpf/%.bpf.c=$(BUILD)/%.bpf.o)
BPF_SKEL := $(BPF_SRC:bpf/%.bpf.c=$(BUILD)/%.skel.h)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Iinclude -I. -Wall -Werror

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
E2E_CLIENT := $(BUILD)/tests/e2e_client

.PHONY: all clean deps test unit e2e demo bench vmlinux fuzz fuzz-build docs
all: $(BUILD)/shunt $(BUILD)/shuntctl

$(BUILD)/%.bpf.o: bpf/%.bpf.c vmlinux.h $(wildcard include/*.h)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@

$(BUILD)/user/%.o: user/%.c | $(BPF_SKEL)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/tools/%.o: tools/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/shunt: $(USER_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/shuntctl: $(BUILD)/tools/shuntctl.o $(BUILD)/tools/http_client.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs jansson 2>/dev/null || echo -ljansson)

# Unit tests link only the daemon objects they test.
$(BUILD)/tests/test_proto: $(BUILD)/user/mysql/proto.o
$(BUILD)/tests/test_auth: $(BUILD)/user/mysql/auth.o
$(BUILD)/tests/test_stmt: $(BUILD)/user/mysql/stmt.o $(BUILD)/user/mysql/proto.o
$(BUILD)/tests/test_stmt_xlate: $(BUILD)/user/mysql/stmt_xlate.o $(BUILD)/user/mysql/stmt.o $(BUILD)/user/mysql/proto.o
$(BUILD)/tests/test_config: $(BUILD)/user/core/config.o $(BUILD)/user/core/config_value.o $(BUILD)/user/core/config_keys.o $(BUILD)/user/mysql/auth.o $(BUILD)/user/util/log.o
$(BUILD)/tests/test_admin_sql: $(LIB_OBJ)
$(BUILD)/tests/test_session: $(LIB_OBJ)
$(BUILD)/tests/test_xcall: $(BUILD)/user/core/xcall.o $(BUILD)/user/util/log.o
$(BUILD)/tests/test_http_access: $(BUILD)/user/ctl/http_access.o
$(BUILD)/tests/test_log: $(BUILD)/user/util/log.o
$(BUILD)/tests/test_sqlconn: $(BUILD)/user/mysql/sql_batch.o $(BUILD)/user/mysql/proto.o
$(BUILD)/tests/%: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(filter %.o,$^) $(LDFLAGS) $(LDLIBS)

# BPF tests over real loopback sockets (tests/bpf/). They load the program
# themselves (root; otherwise they print SKIP lines and exit 0).
BPF_TEST_SRC := $(wildcard tests/bpf/test_*.c)
BPF_TEST_BIN := $(BPF_TEST_SRC:tests/bpf/%.c=$(BUILD)/tests/bpf/%)
$(BUILD)/tests/bpf/test_fastpath: $(BUILD)/user/core/fastpath.o $(BUILD)/user/util/log.o \
	$(BUILD)/user/core/config.o $(BUILD)/user/core/config_value.o $(BUILD)/user/core/config_keys.o $(BUILD)/user/mysql/auth.o
$(BUILD)/tests/bpf/%: tests/bpf/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(filter %.o,$^) $(LDFLAGS) $(LDLIBS)

$(E2E_CLIENT): tests/e2e/e2e_client.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) $(shell pkg-config --cflags --libs libmariadb) -lcrypto

# libFuzzer target for the codec (clang only).
$(BUILD)/fuzz_proto: tests/unit/fuzz_proto.c user/mysql/proto.c
	@mkdir -p $(@D)
	$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -D_GNU_SOURCE -Iinclude -Iuser -o $@ $^

# libFuzzer target for the row parser of shunt's own SQL client.
$(BUILD)/fuzz_sqlrow: tests/unit/fuzz_sqlrow.c user/mysql/sql_batch.c user/mysql/proto.c
	@mkdir -p $(@D)
	$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -D_GNU_SOURCE -Iinclude -Iuser -o $@ $^

# libFuzzer target for the admin port's statement parser.
$(BUILD)/fuzz_admin_sql: tests/unit/fuzz_admin_sql.c user/ctl/admin_sql.c user/core/pool.c user/util/addr.c user/util/log.c
	@mkdir -p $(@D)
	$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -D_GNU_SOURCE -Iinclude -Iuser -o $@ $^ -lpthread -levent -lbpf

# libFuzzer target for the configuration parser (a file given with -c).
$(BUILD)/fuzz_config: tests/unit/fuzz_config.c user/core/config.c user/core/config_value.c user/core/config_keys.c user/mysql/auth.c user/util/log.c user/util/addr.c
	@mkdir -p $(@D)
	$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -D_GNU_SOURCE -Iinclude -Iuser -o $@ $^ -lpthread -levent -lbpf -lcrypto -linih

FUZZ_BIN := $(BUILD)/fuzz_proto $(BUILD)/fuzz_sqlrow $(BUILD)/fuzz_admin_sql $(BUILD)/fuzz_config
fuzz-build: $(FUZZ_BIN)

# Every target for FUZZ_SECS (default 600) each, seeded with its corpus.
fuzz: fuzz-build
	@FUZZ_SECS=$${FUZZ_SECS:-600} BUILD=$(BUILD) tools/fuzz.sh

unit: $(UNIT_BIN) $(BPF_TEST_BIN)

deps:
	@tools/install-deps.sh

test: deps
	@tools/run-tests.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@tools/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@tools/bench.sh

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h

clean:
	rm -rf build build-san

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# The key tables of docs/configuration.md, from the key table in the source.
docs: $(BUILD)/shunt
	@tools/config-doc.sh
