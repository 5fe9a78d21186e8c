# asyncio-cpp — the two commands: `make demo` and `make test`. Both install the Debian
# packages they need (only the missing ones) on a fresh machine, as root, with no prompt.
#   make demo    build the examples and run the tour (every seed scenario)
#   make test    build and run every test (ctest), then the same tests under ASan+UBSan
#   make bench   build release and run the benchmarks against the peers (W9: bench/w9_http.py)
#   make fuzz    libFuzzer on the HTTP request parser for FUZZ_SECONDS (default 600)
#   make tsan    the thread-crossing tests under ThreadSanitizer
#   make format  rewrite every C/C++ file with .clang-format (ctest checks the tree is clean)
#   make soak    timers, posts, executor calls, subprocesses, cancellations mixed for
#                SOAK_SECONDS (default 60) each without and with ASan: flat memory, nothing lost

JOBS ?= $(shell nproc)
BUILD_PKGS := g++ cmake make libgtest-dev libgmock-dev libbenchmark-dev pkg-config libssl-dev openssl python3 \
	node-llhttp zlib1g-dev libbrotli-dev libuchardet-dev nlohmann-json3-dev curl nginx python3-aiohttp python3-httpx \
	clang-format
BENCH_PKGS := python3 python3-uvloop golang-go cargo rustc librust-tokio-dev libboost1.81-dev \
	wrk nginx python3-aiohttp python3-httpx

.PHONY: all deps demo test test-dev test-asan tsan soak bench fuzz format clean

all: test

deps:
	@./scripts/install_packages.sh $(BUILD_PKGS)

demo: deps
	cmake --preset dev -G "Unix Makefiles" >/dev/null
	cmake --build build/dev -j$(JOBS)
	./scripts/demo.sh build/dev

test: test-dev test-asan

test-dev: deps
	cmake --preset dev -G "Unix Makefiles" >/dev/null
	cmake --build build/dev -j$(JOBS)
	cd build/dev && ctest -j$(JOBS) --output-on-failure

# The consumer-project checks (find_package / add_subdirectory) build the library again;
# they already ran in the dev pass, so the sanitizer pass skips them, and the format check.
test-asan: deps
	cmake --preset asan -G "Unix Makefiles" >/dev/null
	cmake --build build/asan -j$(JOBS)
	cd build/asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest -j$(JOBS) --output-on-failure -E '^(consumer|style)\.'

# The thread-crossing tests (TSAN_TESTS) and the executables that hold them (TSAN_TARGETS): only
# those are built under TSan, which keeps CI's third build to a third of the tree. When the dev
# tree is built (make test first, as CI does), scripts/check_tsan_targets.py fails the run if a
# test that TSAN_TESTS selects lives in an executable missing from TSAN_TARGETS.
TSAN_TESTS := Thread|Executor|Concurrent|Signal|Subprocess|seed\.001_07|seed\.004_1[23]
TSAN_TARGETS := test_asyncgen test_base_events test_contextvars test_debug test_events test_executors \
	test_frame_allocator test_signals test_sockets test_sslproto test_streams test_subprocess test_tasks \
	test_threads seed_001_07_run_coroutine_threadsafe seed_004_12_run_in_executor seed_004_13_to_thread
tsan: deps
	cmake --preset tsan -G "Unix Makefiles" >/dev/null
	if [ -f build/dev/CTestTestfile.cmake ]; then \
		python3 scripts/check_tsan_targets.py build/dev '$(TSAN_TESTS)' $(TSAN_TARGETS); fi
	cmake --build build/tsan -j$(JOBS) --target $(TSAN_TARGETS)
	cd build/tsan && TSAN_OPTIONS=suppressions=$(CURDIR)/tests/tsan.supp ctest -j$(JOBS) --output-on-failure \
		-R '$(TSAN_TESTS)'

SOAK_SECONDS ?= 60
soak: deps
	cmake --preset dev -G "Unix Makefiles" >/dev/null
	cmake --build build/dev -j$(JOBS) --target asyncio_soak
	build/dev/tests/asyncio_soak $(SOAK_SECONDS)
	cmake --preset asan -G "Unix Makefiles" >/dev/null
	cmake --build build/asan -j$(JOBS) --target asyncio_soak
	ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=16 build/asan/tests/asyncio_soak $(SOAK_SECONDS)

bench: deps
	@./scripts/install_packages.sh $(BENCH_PKGS)
	cmake --preset release -G "Unix Makefiles" >/dev/null
	cmake --build build/release -j$(JOBS) --target asyncio_bench asyncio_bench_net asyncio_w9_server
	python3 bench/run_bench.py --ours build/release/bench/asyncio_bench $(BENCH_ARGS)
	python3 bench/w9_http.py --ours build/release/bench/asyncio_w9_server
	python3 bench/w9_client.py --ours build/release/bench/asyncio_bench_net

# libFuzzer on the server's request-parsing path (HttpParser over llhttp, path and query
# decoding) for FUZZ_SECONDS (default 600), with ASan+UBSan. The committed seed corpus is
# tests/fuzz/corpus; new inputs go to build/fuzz/corpus, crashes to build/fuzz/.
FUZZ_SECONDS ?= 600
FUZZ_FLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
fuzz: deps
	@./scripts/install_packages.sh clang
	mkdir -p build/fuzz/obj build/fuzz/corpus
	cd build/fuzz/obj && clang $(FUZZ_FLAGS) -c -I/usr/share/include/llhttp \
		/usr/share/llhttp/api.c /usr/share/llhttp/http.c /usr/share/llhttp/llhttp.c
	clang++ -std=c++20 $(FUZZ_FLAGS) -fsanitize=fuzzer -Iinclude -Isrc -I/usr/share/include/llhttp \
		tests/fuzz/fuzz_http_request.cpp src/http/http_parser.cpp src/http/headers.cpp \
		src/http/url_util.cpp build/fuzz/obj/*.o -o build/fuzz/fuzz_http_request
	cd build/fuzz && ASAN_OPTIONS=detect_leaks=1 ./fuzz_http_request -max_total_time=$(FUZZ_SECONDS) \
		-max_len=4096 -timeout=10 -print_final_stats=1 corpus ../../tests/fuzz/corpus

# Rewrite every C/C++ file with .clang-format (ctest's style.clang_format checks it).
format:
	./scripts/check_format.sh --fix

clean:
	rm -rf build
