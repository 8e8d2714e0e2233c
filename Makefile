# Top-level entry points. `make demo` and `make test` install what is
# missing, build, and run; see README.md.
BUILD ?= build
JOBS ?= $(shell nproc)
WERROR ?= $(if $(CI),ON,OFF)
CMAKE_ARGS ?=

.PHONY: all deps test-deps configure build test demo bench format clean install

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
