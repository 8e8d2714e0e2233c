# Top-level entry points. `make demo` and `make test` install what is
# missing, build, and run; see README.md.
BUILD ?= build
JOBS ?= $(shell nproc)
WERROR ?= $(if $(CI),ON,OFF)
CMAKE_ARGS ?=

.PHONY: all deps test-deps configure build test test-asan test-tsan demo bench \
	format clean install

all: build

deps:
	@scripts/install-deps.sh

test-deps:
	@scripts/install-deps.sh --test

configure:
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DLITEKEEP_WERROR=$(WERROR) $(CMAKE_ARGS) >/dev/null

build: deps configure
	@cmake --build $(BUILD) -j $(JOBS)

test: test-deps configure
	@cmake --build $(BUILD) -j $(JOBS)
	ctest --test-dir $(BUILD) --output-on-failure -j 2 --timeout 900

# Sanitizer runs (docs/reliability.md "Sanitizers"): a separate build tree
# each. Reports of every process (test binaries and the litekeep binaries
# they start) go to <tree>/sanitizer/; any report fails the target.
# test-asan: every unit and integration test under ASan+UBSan (the fuzz
# targets have their own ASan+UBSan build, the layering probes compile
# nothing). test-tsan: the replicator's concurrency tests under TSan.
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
# The tests where the replicator runs its threads (one per database, the
# compaction scheduler, the WAL watcher, the metrics server, shutdown,
# several replicas per database, leases, -exec, follow, parallel restore
# downloads, sync -watch, the control socket).
TSAN_SUITES = MultiDbTest ReplicateRestoreTest CrashTest CompactionTest \
  MetricsTest MetricsServerTest HeartbeatTest ResetTest ShutdownSyncTest \
  LineageTest S3/ReplicaConformanceTest SyncS3Test StormTest \
  MultiReplicaTest LeaseTest LeaseFileTest LeaseS3Test FollowTest \
  RestoreExecuteTest RestoreFaultsTest BackgroundVerifyTest \
  ControlSocketTest S3EndToEndTest
empty :=
space := $(empty) $(empty)
bar := |
TSAN_TESTS ?= ^($(subst $(space),$(bar),$(strip $(TSAN_SUITES))))\.
# Tests that bound CPU or wall time (how long a wait costs, how many
# restores or reads fit in a window, how soon a killed replicator has
# written a position): they pass in the plain build and fail under a
# sanitizer only because it runs the code 3-15 times slower. Not run by
# either sanitizer target (docs/reliability.md "Sanitizers").
SAN_TIMED = MultiDbTest.WaitingForAWriteCostsNoCpu \
  CrashTest.KillNineReplicatorUnderLoad \
  MetricsTest.BackgroundVerifyFeedsMetricsAndCatchesAFlippedByte \
  SyncS3Test.WatchFollowsChangesAndReadersNeverSeePartialFiles
# Not run by test-asan either: the tests that load the VFS extension
# (build-asan/litekeep.so, instrumented) into the system's sqlite3 shell or
# python, which are not, so ASan refuses to start there ("ASan runtime does
# not come first"); the same VFS code runs instrumented in the other Vfs*
# tests, in process. And the fuzz targets (their own ASan+UBSan build) and
# the layering probes (they compile nothing).
ASAN_HOSTED = VfsFileTest.SqliteShellMatchesSource \
  VfsFileTest.PythonMatchesSource \
  VfsChainTest.HugeCommitIsRefusedBeforeAllocating \
  VfsS3Test.QueriesMatchSourceInProcessShellAndPython \
  VfsVerifyTest.FlippedPageByteFailsTheQueryUntilRepaired \
  VfsVerifyTest.FlippedTrailerByteFailsTheQueryUntilRepaired \
  VfsVerifyTest.SmallFileIsCheckedAtOpen \
  VfsVerifyTest.RangedReadRefusesAFrameOfAnotherPage \
  VfsAgeFileTest.QueriesMatchSource \
  VfsAgeFileTest.MissingOrWrongIdentityIsAClearError \
  VfsAgeFileTest.TamperedChunkFailsNamingTheFile \
  VfsAgeS3Test.QueriesMatchSource \
  NatsEndToEndTest.WorkloadRestoresByteForByteAndVerifies
ASAN_EXCLUDE ?= ^(fuzz_|layering\.|$(subst .,\.,$(subst $(space),$(bar),$(strip $(SAN_TIMED) $(ASAN_HOSTED))))$$)
TSAN_EXCLUDE ?= ^($(subst .,\.,$(subst $(space),$(bar),$(strip $(SAN_TIMED)))))$$
# -O1 -g1: sanitizer builds compile much quicker than at -O2 -g, and
# reports still carry function names and line numbers.
SAN_FLAGS = -O1 -g1 -DNDEBUG
SAN_CONFIGURE = cmake -S . -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$(SAN_FLAGS)" \
  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=$(SAN_FLAGS)" \
  -DLITEKEEP_WERROR=OFF -DLITEKEEP_BUILD_BENCH=OFF $(CMAKE_ARGS)
SAN_TARGETS = litekeep litekeep_vfs_ext unit_tests integration_tests
san_env = LITEKEEP_SOURCE_DIR=$(CURDIR) LITEKEEP_BUILD_DIR=$(CURDIR)/$(1) \
  LITEKEEP_BIN=$(CURDIR)/$(1)/litekeep LITEKEEP_NPM_DIR=$(CURDIR)/$(BUILD)/npm
san_check = if ls $(1)/sanitizer/* >/dev/null 2>&1; then \
  cat $(1)/sanitizer/*; echo "sanitizer reports: $(1)/sanitizer/" >&2; exit 1; \
  else echo "no sanitizer reports"; fi

test-asan: test-deps
	@$(SAN_CONFIGURE) -B $(ASAN_BUILD) -DLITEKEEP_SANITIZE=address,undefined >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS) --target $(SAN_TARGETS)
	@rm -rf $(ASAN_BUILD)/sanitizer && mkdir -p $(ASAN_BUILD)/sanitizer
	$(call san_env,$(ASAN_BUILD)) \
	  ASAN_OPTIONS=log_path=$(CURDIR)/$(ASAN_BUILD)/sanitizer/asan:detect_leaks=1:check_initialization_order=1 \
	  UBSAN_OPTIONS=log_path=$(CURDIR)/$(ASAN_BUILD)/sanitizer/ubsan:print_stacktrace=1 \
	  ctest --test-dir $(ASAN_BUILD) -E '$(ASAN_EXCLUDE)' \
	  --output-on-failure -j 2 --timeout 1800
	@$(call san_check,$(ASAN_BUILD))

test-tsan: test-deps
	@$(SAN_CONFIGURE) -B $(TSAN_BUILD) -DLITEKEEP_SANITIZE=thread >/dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS) --target $(SAN_TARGETS)
	@rm -rf $(TSAN_BUILD)/sanitizer && mkdir -p $(TSAN_BUILD)/sanitizer
	$(call san_env,$(TSAN_BUILD)) \
	  TSAN_OPTIONS=log_path=$(CURDIR)/$(TSAN_BUILD)/sanitizer/tsan:second_deadlock_stack=1 \
	  ctest --test-dir $(TSAN_BUILD) -R '$(TSAN_TESTS)' -E '$(TSAN_EXCLUDE)' \
	  --output-on-failure -j 2 --timeout 1800
	@$(call san_check,$(TSAN_BUILD))

demo: deps configure
	@cmake --build $(BUILD) -j $(JOBS) --target litekeep
	@scripts/demo.sh $(BUILD)/litekeep

bench: deps configure
	@cmake --build $(BUILD) -j $(JOBS)
	@bench/run.sh $(BUILD)

format:
	@find src tests bench -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD)

install: build
	cmake --install $(BUILD)
