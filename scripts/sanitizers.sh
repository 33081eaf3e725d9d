#!/usr/bin/env bash
# Sanitizer and fuzzing runs, each time-boxed so that a hang fails instead of stalling CI.
#
#   scripts/sanitizers.sh asan   # AddressSanitizer (Swift + C) and UndefinedBehaviorSanitizer (C kernels)
#                                #   over the Core, CPU and CLI suites and the MQA kernel-variant tests
#   scripts/sanitizers.sh tsan   # ThreadSanitizer over the thread pool (MQA kernels on 1-5 threads)
#                                #   and the Mega MoE rank runtime and fused op with thread ranks
#   scripts/sanitizers.sh fuzz   # builds Fuzz/ with libFuzzer and runs each target FUZZ_SECONDS (60)
#   scripts/sanitizers.sh all    # the three in turn
#
# Each build goes to its own scratch folder (.build-asan, .build-tsan, Fuzz/.build) and every step
# prints its duration. Any sanitizer report, crash or timeout makes the script exit non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_TARGETS=(FuzzSafeTensors FuzzRunOp FuzzLayouts)

# The build-tool plugin's executable is instrumented too and runs during the build; a leak report
# at its exit would fail the build, so leak checking is off (for the test runs too: this script
# looks for memory errors, data races and crashes, not leaks). ASan also reports Swift's traps
# (SIGILL) and aborts with a stack; Swift's own backtracer is off, as it faults under ASan.
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:handle_sigill=1:handle_abort=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"  # no suppressions: none were needed
export SWIFT_BACKTRACE="enable=no"

# The C kernels get UBSan from clang (Swift has no -sanitize=undefined: its own integer overflow and
# bounds checks already trap in debug builds); -fno-sanitize-recover makes the first report fatal.
ASAN_FLAGS=(--sanitize=address -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=all --scratch-path .build-asan)
TSAN_FLAGS=(--sanitize=thread --scratch-path .build-tsan)

# Runs "$@" under `timeout SECONDS`, printing how long it took; a timeout (exit 124) is a failure.
step() {
    local name=$1 seconds=$2
    shift 2
    echo "== sanitizers: $name (time box ${seconds} s)"
    local start=$SECONDS status=0
    # gold prints one "Cannot export local symbol" warning per ASan check routine: dropped.
    set +e
    timeout --kill-after=10 "$seconds" "$@" 2>&1 | sed '/Cannot export local symbol/d'
    status=${PIPESTATUS[0]}
    set -e
    echo "== sanitizers: $name took $((SECONDS - start)) s (exit $status)"
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then echo "error: $name ran past its ${seconds} s time box" >&2; fi
    return "$status"
}

run_asan() {
    step "asan+ubsan build" 900 swift build --build-tests "${ASAN_FLAGS[@]}"
    # The Core, CPU and CLI suites whole (their kernel tests iterate CPUKernelVariant.supported: every
    # level this machine has, with K tails, odd strides and M/N = 1), plus the MQA kernel-variant
    # and paged-MQA tests, which are the only callers of the C MQA kernels. MoECommandTests is left
    # out: it spawns `deepgemm` rank processes (posix_spawn of the release binary, not instrumented)
    # and runs whole MoE layers, which under ASan exceed the time box.
    step "asan+ubsan tests" 600 swift test --skip-build "${ASAN_FLAGS[@]}" \
        --filter 'DeepGEMMCoreTests\.' --filter 'DeepGEMMCPUTests\.' --filter 'DeepGEMMCLITests\.' \
        --filter 'MQADeterminismTests' --filter 'PagedMQALogitsTests' \
        --skip 'MoECommandTests'
}

run_tsan() {
    step "tsan build" 900 swift build --build-tests "${TSAN_FLAGS[@]}"
    # The rank runtime with thread ranks (barriers, flags, heartbeats, timeouts), the symmetric
    # buffer's views and two fused Mega MoE calls on 2 and 4 thread ranks (MegaMoEThreadRankTests:
    # MegaMoEAPITests' bitwise cases run the unfused pipeline too and take minutes under TSan), and
    # the MQA kernels split over 1-5 pool threads (CPUParallelism.forEachChunk, the pool every
    # parallel kernel uses), the GEMM engine and the quantization kernels on the pool. Left out:
    # the process-rank cases (posix_spawn of rank processes and exit-signal tests: the children are
    # separate processes, outside TSan's view).
    step "tsan tests" 600 swift test --skip-build "${TSAN_FLAGS[@]}" \
        --filter 'RankRuntimeTests' --filter 'MegaMoEAPITests/(bufferViews|viewsKeep|bufferRules)' \
        --filter 'MegaMoEThreadRankTests' --filter 'MQADeterminismTests/resultsDoNotDependOnThreadsOrRuns' \
        --filter 'GEMMEngineTests/accumulatesIntoStridedViews' --filter 'KernelVariantTests/perChannelBlockAndCustomDims' \
        --skip 'Process|process|exitPaths|earlyUnlink'
}

run_fuzz() {
    # Every module gets ASan and libFuzzer's coverage instrumentation (what -sanitize=fuzzer adds,
    # without linking libFuzzer's runtime: only the fuzz executables link it, see Fuzz/Package.swift).
    local flags=(--package-path Fuzz -c debug -Xswiftc -sanitize=address
                 -Xswiftc -sanitize-coverage=edge,indirect-calls,trace-cmp,inline-8bit-counters,pc-table
                 -Xcc -fsanitize=fuzzer-no-link,address)
    step "fuzz build" 900 swift build "${flags[@]}"
    local bin
    bin=$(swift build "${flags[@]}" --show-bin-path)
    for target in "${FUZZ_TARGETS[@]}"; do
        local work status=0
        work=$(mktemp -d)
        # New inputs go to a scratch copy of the seed corpus, crash-*/timeout-* files next to it. A fixed
        # -seed keeps the CI run reproducible; exploring new seeds is for local runs.
        mkdir -p "$work/corpus" "$work/findings"
        cp -r "Fuzz/corpus/$target/." "$work/corpus/"
        step "fuzz $target" $((FUZZ_SECONDS + 120)) "$bin/$target" "$work/corpus" \
            -seed=1 -max_total_time="$FUZZ_SECONDS" -timeout=20 -rss_limit_mb=3072 -max_len=4096 -print_final_stats=1 \
            -artifact_prefix="$work/findings/" >"$work/log" 2>&1 || status=$?
        grep -E "^== sanitizers|^INFO: seed corpus|DONE|stat::number_of_executed_units|stat::peak_rss_mb" "$work/log" || true
        echo "== fuzz $target: $(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/log" | grep -o '[0-9]*$' || echo '?') executions in ${FUZZ_SECONDS} s"
        if [ "$status" -ne 0 ]; then
            tail -n 80 "$work/log" >&2
            for finding in "$work"/findings/*; do
                [ -f "$finding" ] && { echo "finding $(basename "$finding") (base64):" >&2; base64 -w0 "$finding" >&2; echo >&2; }
            done
            return "$status"
        fi
        rm -rf "$work"
    done
}

mode=${1:-all}
case "$mode" in
    asan) run_asan ;;
    tsan) run_tsan ;;
    fuzz) run_fuzz ;;
    all) run_asan; run_tsan; run_fuzz ;;
    *) echo "usage: $0 asan|tsan|fuzz|all" >&2; exit 2 ;;
esac
