#!/usr/bin/env bash
# The README's test command: install dependencies, build, and run every test
# that CI runs — once in a normal build and once under ASan+UBSan.
#   bash tools/test.sh            full run (what .ci/run calls)
#   bash tools/test.sh --quick    normal build only
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh
jobs=$(nproc)

build_and_test() {  # DIR CMAKE_ARGS...
	local dir=$1; shift
	cmake -S . -B "$dir" -DCRM_WERROR=ON "$@" >/dev/null
	cmake --build "$dir" -j"$jobs"
	(cd "$dir" && ctest --output-on-failure -j"$jobs")
}

echo "== build and test (RelWithDebInfo)"
build_and_test build -DCMAKE_BUILD_TYPE=RelWithDebInfo
if [ "${1:-}" != "--quick" ]; then
	# clang, so that the same build also holds the libFuzzer targets (label
	# fuzz: each runs for a bounded time from seeds, tests/fuzz/run_fuzz.sh).
	echo "== build and test under AddressSanitizer + UndefinedBehaviorSanitizer, with the fuzz targets (clang)"
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		build_and_test build-clang-asan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
		-DCRM_SANITIZE=ON -DCRM_BUILD_FUZZERS=ON -DCRM_BUILD_BENCH=OFF
fi
