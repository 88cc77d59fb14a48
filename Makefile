# Thin wrapper over Meson: the README's two commands are `make demo` and `make check`.
BUILD ?= build
ASAN_BUILD ?= build-asan
PREFIX ?= /usr/local
MESON_OPTS ?=

.PHONY: all build demo check bench install clean format format-check unit asan

all: build

$(BUILD)/build.ninja:
	scripts/deps.sh build
	meson setup $(BUILD) $(MESON_OPTS) -Dwerror=true --prefix=$(PREFIX)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) $(MESON_OPTS) -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false

asan: $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)

demo:
	scripts/deps.sh demo
	$(MAKE) build
	scripts/demo.sh

check:
	scripts/deps.sh check
	$(MAKE) build asan
	tests/run-all.sh

bench:
	scripts/deps.sh bench
	$(MAKE) build
	bench/run-all.sh docs/performance.md

install: build
	meson configure $(BUILD) --prefix=$(PREFIX)
	meson install -C $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
