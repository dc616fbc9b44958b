# pcc: one Makefile with explicit object lists (docs/engineering.md rule 16).
#   make            build build/pccd, build/pipecat and build/pcc
#   make run        install what is missing, build, start pccd on SQLite with a demo PAT
#   make check      install what tests need, build with ASan+UBSan, run every test
#   make bench      throughput and CLI timings as ratios against baselines (not part of check)
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS
#   make docs       regenerate docs/cli/ from the CLI's --help (its command and option tables)
#   make man        man pages (pipecat, each command, pccd) into $(BUILD)/man, from --help too
#   make format     clang-format the tree

CC      ?= cc
SAN     ?= 0
BUILD   ?= build
ifeq ($(SAN),1)
BUILD   := build/san
endif

WARN    = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation -Wvla
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c17 -D_GNU_SOURCE -fno-strict-aliasing -fstack-protector-strong $(WARN) \
           -MMD -MP
CPPFLAGS += -D_FORTIFY_SOURCE=2 -I/usr/include/postgresql
LDFLAGS ?=
ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -O1
CPPFLAGS := $(filter-out -D_FORTIFY_SOURCE=2,$(CPPFLAGS))
LDFLAGS += -fsanitize=address,undefined
endif

# --- layers ----------------------------------------------------------------------------------
# Each directory compiles with the include paths of its own layer and the layers below it only,
# so an #include that points up the map in ARCHITECTURE.md does not compile.
LAYER_core    = lib/core
LAYER_store   = $(LAYER_core) lib/store
LAYER_http    = $(LAYER_core) lib/http
LAYER_client  = $(LAYER_core) lib/client
LAYER_runtime = $(LAYER_core) lib/runtime
LAYER_auth    = $(LAYER_store) lib/auth
LAYER_api     = $(LAYER_auth) lib/http lib/api
LAYER_web     = $(LAYER_api) lib/web
LAYER_pccd    = $(LAYER_web) lib/runtime cmd/pccd
LAYER_pipecat = $(LAYER_client) cmd/pipecat
# Tests reach into every layer.
LAYER_tests   = $(LAYER_web) lib/runtime lib/client cmd/pipecat

$(BUILD)/obj/lib/core/%.o:    LAYER_INC = $(LAYER_core)
$(BUILD)/obj/lib/store/%.o:   LAYER_INC = $(LAYER_store)
$(BUILD)/obj/lib/http/%.o:    LAYER_INC = $(LAYER_http)
$(BUILD)/obj/lib/client/%.o:  LAYER_INC = $(LAYER_client)
$(BUILD)/obj/lib/runtime/%.o: LAYER_INC = $(LAYER_runtime)
$(BUILD)/obj/lib/auth/%.o:    LAYER_INC = $(LAYER_auth)
$(BUILD)/obj/lib/api/%.o:     LAYER_INC = $(LAYER_api)
$(BUILD)/obj/lib/web/%.o:     LAYER_INC = $(LAYER_web)
$(BUILD)/obj/cmd/pccd/%.o:    LAYER_INC = $(LAYER_pccd)
$(BUILD)/obj/cmd/pipecat/%.o: LAYER_INC = $(LAYER_pipecat)

# --- sources ---------------------------------------------------------------------------------
CORE_SRC   = lib/core/rc.c lib/core/buf.c lib/core/token.c lib/core/digest.c lib/core/json.c \
             lib/core/timefmt.c lib/core/log.c lib/core/text.c lib/core/toml.c \
             lib/core/httpparse.c lib/core/form.c
STORE_SRC  = lib/store/store.c lib/store/sqlite.c lib/store/pg.c lib/store/cache.c \
             lib/store/backup.c
HTTP_SRC   = lib/http/server.c lib/http/tls.c
AUTH_SRC   = lib/auth/auth.c lib/auth/throttle.c lib/auth/keyfile.c lib/auth/apikey.c \
             lib/auth/seal.c lib/auth/tokens.c lib/auth/oauth.c lib/auth/orgadmin.c \
             lib/auth/account.c lib/auth/mailer.c
API_SRC    = lib/api/common.c lib/api/users.c lib/api/orgs.c lib/api/tokens.c lib/api/routes.c \
             lib/api/regions.c lib/api/apikeys.c lib/api/secrets.c lib/api/services.c \
             lib/api/public.c lib/api/audit.c lib/api/orgtokens.c lib/api/oauth.c \
             lib/api/invitations.c
WEB_SRC    = lib/web/template.c lib/web/session.c lib/web/account.c lib/web/tokens.c \
             lib/web/orgs.c lib/web/routes.c lib/web/audit.c lib/web/oauth.c \
             lib/web/orgtokens.c lib/web/invitations.c
RUNTIME_SRC = lib/runtime/runtime.c lib/runtime/none.c lib/runtime/docker.c lib/runtime/demux.c
CLIENT_SRC = lib/client/client.c lib/client/credfile.c lib/client/oauth.c
PCCD_SRC   = cmd/pccd/main.c cmd/pccd/admin.c cmd/pccd/serve.c cmd/pccd/backup.c
PIPECAT_SRC = cmd/pipecat/main.c cmd/pipecat/output.c cmd/pipecat/session.c \
              cmd/pipecat/cmd_auth.c cmd/pipecat/cmd_orgs.c cmd/pipecat/cmd_tokens.c \
              cmd/pipecat/args.c cmd/pipecat/platform.c cmd/pipecat/deploy_config.c \
              cmd/pipecat/cmd_keys.c cmd/pipecat/cmd_props.c cmd/pipecat/cmd_secrets.c \
              cmd/pipecat/cmd_agent.c cmd/pipecat/cmd_deploy.c \
              cmd/pipecat/cmd_orgtokens.c cmd/pipecat/cmd_login.c cmd/pipecat/completion.c \
              cmd/pipecat/cmd_invitations.c

SQLITE_MIGRATIONS = $(sort $(wildcard lib/store/migrations/sqlite/*.sql))
PG_MIGRATIONS = $(sort $(wildcard lib/store/migrations/pg/*.sql))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
CORE_OBJ   = $(call obj,$(CORE_SRC))
SERVER_OBJ = $(call obj,$(STORE_SRC) $(HTTP_SRC) $(AUTH_SRC) $(API_SRC) $(WEB_SRC)) \
             $(BUILD)/obj/gen/sqlite_migrations.o $(BUILD)/obj/gen/pg_migrations.o \
             $(BUILD)/obj/gen/web_files.o
# The dashboard's templates and static assets (web/), embedded like the migrations.
WEB_FILES = $(sort $(wildcard web/templates/*.html web/static/*))
CLIENT_OBJ = $(call obj,$(CLIENT_SRC))
RUNTIME_OBJ = $(call obj,$(RUNTIME_SRC))

# The CLI links core and client only; it never links store, api or web (docs/engineering.md rule 1).
LIBCORE   = $(BUILD)/libpcc-core.a
LIBSERVER = $(BUILD)/libpcc-server.a
LIBCLIENT = $(BUILD)/libpcc-client.a
# The agent runtime (container engines) sits beside store and http: it uses core only.
LIBRUNTIME = $(BUILD)/libpcc-runtime.a

PCCD_LIBS    = -lmicrohttpd -lgnutls -ljansson -lsodium -lsqlite3 -lpq -lcurl -lsystemd -lz -lpthread
PIPECAT_LIBS = -ljansson -lsodium -lz -ldl  # libcurl is dlopen-ed for https only

.PHONY: all run check test unit e2e e2e-pg bench docs man fuzz format clean deps deps-test install \
        uninstall deb check-deb browser screenshots engine agent-image format-check
all: $(BUILD)/pccd $(BUILD)/pipecat $(BUILD)/pcc

V ?= 0
Q = $(if $(filter 1,$(V)),,@)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(addprefix -I,$(LAYER_INC)) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# SQL migrations are compiled into pccd, so a deployment is one binary.
$(BUILD)/gen/sqlite_migrations.c: $(SQLITE_MIGRATIONS) scripts/embed.sh
	@mkdir -p $(dir $@)
	$(Q){ echo '#include <stddef.h>'; sh scripts/embed.sh sqlite_migrations $(SQLITE_MIGRATIONS); } > $@
$(BUILD)/gen/pg_migrations.c: $(PG_MIGRATIONS) scripts/embed.sh
	@mkdir -p $(dir $@)
	$(Q){ echo '#include <stddef.h>'; sh scripts/embed.sh pg_migrations $(PG_MIGRATIONS); } > $@
$(BUILD)/gen/web_files.c: $(WEB_FILES) scripts/embed.sh
	@mkdir -p $(dir $@)
	$(Q){ echo '#include <stddef.h>'; sh scripts/embed.sh web_files $(WEB_FILES); } > $@

$(LIBCORE): $(CORE_OBJ)
	$(Q)ar rcs $@ $^
$(LIBSERVER): $(SERVER_OBJ)
	$(Q)ar rcs $@ $^
$(LIBCLIENT): $(CLIENT_OBJ)
	$(Q)ar rcs $@ $^
$(LIBRUNTIME): $(RUNTIME_OBJ)
	$(Q)ar rcs $@ $^

$(BUILD)/pccd: $(call obj,$(PCCD_SRC)) $(LIBSERVER) $(LIBRUNTIME) $(LIBCORE)
	@echo "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PCCD_LIBS)

$(BUILD)/pipecat: $(call obj,$(PIPECAT_SRC)) $(LIBCLIENT) $(LIBCORE)
	@echo "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PIPECAT_LIBS)

# `pcc` is the same binary; invoked under that name it acts as `pipecat cloud`.
$(BUILD)/pcc: $(BUILD)/pipecat
	ln -sf pipecat $@

# --- tests -----------------------------------------------------------------------------------
UNIT_TESTS = $(patsubst %.c,%,$(wildcard tests/unit/*/*_test.c))
UNIT_BINS  = $(patsubst tests/unit/%,$(BUILD)/tests/%,$(UNIT_TESTS))

$(BUILD)/tests/%: tests/unit/%.c $(LIBSERVER) $(LIBRUNTIME) $(LIBCLIENT) $(LIBCORE)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	$(Q)$(CC) $(CPPFLAGS) $(addprefix -I,$(LAYER_tests)) $(CFLAGS) $(LDFLAGS) -o $@ $< \
	    $(LIBSERVER) $(LIBRUNTIME) $(LIBCLIENT) $(LIBCORE) \
	    -lcriterion $(PCCD_LIBS) -ldl

# The runtime tests run the test agent's image (built offline) on the engine that
# scripts/engine.sh sets up (rootful Podman's Docker API service); docs/runtime.md.
engine:
	sh scripts/engine.sh

agent-image:
	sh scripts/agent-image.sh $(BUILD)

unit: $(UNIT_BINS)
	@set -e; PCC_TEST_ENGINE_SOCKET=$$(sh scripts/engine.sh); export PCC_TEST_ENGINE_SOCKET; \
	    sh scripts/agent-image.sh $(BUILD); export PCC_TEST_AGENT_OCI=$(BUILD)/agent-image/oci; \
	    for t in $(UNIT_BINS); do echo "== $$t"; $$t --jobs 2; done
	@echo "== $(BUILD)/tests/store/store_test and cache_test on PostgreSQL"
	sh scripts/pg-test.sh sh -c '$(BUILD)/tests/store/store_test --jobs 2 && \
	    $(BUILD)/tests/store/cache_test --jobs 2'

e2e: all
	PCC_BIN_DIR=$(abspath $(BUILD)) /usr/bin/python3 -m pytest -q tests/e2e

# The same suite on PostgreSQL, in a private cluster started and stopped around the run (one
# database per test server), plus the multi-node tests that only run there.
e2e-pg: all
	sh scripts/pg-test.sh env PCC_BIN_DIR=$(abspath $(BUILD)) /usr/bin/python3 -m pytest -q tests/e2e

deps:
	sh scripts/deps.sh build

deps-test:
	sh scripts/deps.sh test
	sh scripts/engine.sh >/dev/null

run: deps
	$(MAKE) all
	sh scripts/run.sh $(BUILD)

# The pytest runs come last so the log ends with their summaries.
check: deps-test
	$(MAKE) format-check
	$(MAKE) SAN=1 all unit
	$(MAKE) fuzz-smoke
	$(MAKE) check-deb
	$(MAKE) SAN=1 browser
	$(MAKE) SAN=1 e2e
	$(MAKE) SAN=1 e2e-pg

# --- fuzzing ---------------------------------------------------------------------------------
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = $(patsubst fuzz/%_fuzz.c,%,$(wildcard fuzz/*_fuzz.c))
FUZZ_CFLAGS = -std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined $(WARN) \
              -Wno-unknown-warning-option

build/fuzz/%: fuzz/%_fuzz.c $(CORE_SRC)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)clang $(FUZZ_CFLAGS) $(addprefix -I,lib/core) -o $@ $< $(CORE_SRC) -ljansson -lsodium -lz

# The engine's log stream decoder lives in lib/runtime (pure code like core's parsers).
build/fuzz/demux: fuzz/demux_fuzz.c lib/runtime/demux.c $(CORE_SRC)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)clang $(FUZZ_CFLAGS) $(addprefix -I,lib/core lib/runtime) -o $@ $< lib/runtime/demux.c \
	    $(CORE_SRC) -ljansson -lsodium -lz

fuzz: $(addprefix build/fuzz/,$(FUZZ_TARGETS))
	@set -e; for t in $(FUZZ_TARGETS); do mkdir -p build/fuzz/corpus-$$t; \
	    build/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) build/fuzz/corpus-$$t fuzz/corpus/$$t \
	        > build/fuzz/$$t.log 2>&1 || { tail -40 build/fuzz/$$t.log; exit 1; }; \
	    echo "  fuzz $$t: $$(grep -E '^Done' build/fuzz/$$t.log)"; done

# A short run of every target inside `make check`: catches regressions on the seed corpora.
# --- browser tests: playwright-core (pinned in package-lock.json) driving Debian's chromium ----
# npm ci runs only when node_modules is missing or older than the lockfile; no browser is ever
# downloaded (playwright-core has none; PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD for good measure).
node_modules/.package-lock.json: package.json package-lock.json
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
	@touch $@

browser: all node_modules/.package-lock.json
	PCC_BIN_DIR=$(abspath $(BUILD)) node --test tests/browser/

# The dashboard's pictures in docs/img/ (README "The dashboard"), from a real pccd in chromium.
screenshots: all node_modules/.package-lock.json
	PCC_BIN_DIR=$(abspath $(BUILD)) node tests/browser/screenshots.mjs

fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=15

bench: all
	sh bench/run.sh $(BUILD)

docs: $(BUILD)/pipecat
	python3 scripts/cli-docs.py $(BUILD)

# Manual pages: pipecat(1), one per command and pccd(1), from the same tables as --help.
man: $(BUILD)/pipecat $(BUILD)/pccd
	python3 scripts/cli-docs.py $(BUILD) --man $(BUILD)/man

# --- installing and packaging ------------------------------------------------------------------
# make install [PREFIX=/usr/local] [DESTDIR=]: the binaries, manual pages, shell completions, the
# systemd unit (its paths set to PREFIX), pccd's settings file and the docs; make uninstall
# removes exactly those files.
PREFIX  ?= /usr/local
BINDIR   = $(PREFIX)/bin
UNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
DOCDIR   = $(PREFIX)/share/doc/pcc
MANDIR   = $(PREFIX)/share/man/man1
BASHCOMPDIR = $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  = $(PREFIX)/share/zsh/vendor-completions
FISHCOMPDIR = $(PREFIX)/share/fish/vendor_completions.d
INSTALLED = $(BINDIR)/pccd $(BINDIR)/pipecat $(BINDIR)/pcc $(UNITDIR)/pccd.service \
            $(SYSCONFDIR)/default/pccd $(DOCDIR)/README.md $(DOCDIR)/LICENSE \
            $(BASHCOMPDIR)/pipecat $(BASHCOMPDIR)/pcc $(ZSHCOMPDIR)/_pipecat \
            $(FISHCOMPDIR)/pipecat.fish $(FISHCOMPDIR)/pcc.fish

install: all man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/default \
	    $(DESTDIR)$(DOCDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(BASHCOMPDIR) \
	    $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 0755 $(BUILD)/pccd $(BUILD)/pipecat $(DESTDIR)$(BINDIR)/
	ln -sf pipecat $(DESTDIR)$(BINDIR)/pcc
	install -m 0644 $(BUILD)/man/*.1 $(DESTDIR)$(MANDIR)/
	$(BUILD)/pipecat cloud completion bash > $(DESTDIR)$(BASHCOMPDIR)/pipecat
	ln -sf pipecat $(DESTDIR)$(BASHCOMPDIR)/pcc
	$(BUILD)/pipecat cloud completion zsh > $(DESTDIR)$(ZSHCOMPDIR)/_pipecat
	$(BUILD)/pipecat cloud completion fish > $(DESTDIR)$(FISHCOMPDIR)/pipecat.fish
	$(BUILD)/pipecat cloud completion fish > $(DESTDIR)$(FISHCOMPDIR)/pcc.fish
	sed 's|@BINDIR@|$(BINDIR)|g' packaging/pccd.service.in > $(DESTDIR)$(UNITDIR)/pccd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/pccd.service
	install -m 0644 packaging/pccd.default $(DESTDIR)$(SYSCONFDIR)/default/pccd
	install -m 0644 README.md LICENSE $(DESTDIR)$(DOCDIR)/

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED)) $(DESTDIR)$(MANDIR)/pccd.1 \
	    $(DESTDIR)$(MANDIR)/pipecat.1 $(DESTDIR)$(MANDIR)/pipecat-cloud-*.1
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null

# make deb: build/pcc_VERSION_ARCH.deb from release binaries (never the sanitizer build).
deb:
	$(MAKE) SAN=0 all
	sh scripts/deb.sh build

# The package is lintian clean and installs with apt on a clean Debian 12 (tests/package/).
check-deb: deb
	lintian --fail-on error,warning --tag-display-limit 0 build/pcc_*.deb
	sh tests/package/deb_test.sh build/pcc_*.deb

# The layout of .clang-format; make check fails on a file it would change.
format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(shell find build -name '*.d' -type f 2>/dev/null)
