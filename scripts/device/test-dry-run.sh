#!/usr/bin/env bash
# Checks the device check's dry run (CI runs this): a clean run passes with at most 7 files and the
# summary last, with cases of every kind (BF16 and FP8 GEMMs, indexer logits and schedule, casts); a part
# runs only its families; an injected wrong result (in a GEMM and in a bitwise case) and an injected hang
# each make it exit non-zero, and the hang stops the run before verify and bench.
# usage: scripts/device/test-dry-run.sh [BIN]   (default .build/release/deepgemm)
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-.build/release/deepgemm}
failures=0

# dry_run NAME [VAR=VALUE...]: runs the dry run with the environment additions; leaves $out, $log, $rc.
dry_run() {
    local name=$1 part=()
    shift
    if [ "${1:-}" = "--part" ]; then part=(--part "$2"); shift 2; fi
    out=$(mktemp -d)
    log="$out.log"
    env "$@" OUT="$out" DG_DEVICE_CHECK_CASE_DEADLINE=2 scripts/device-check.sh run --dry-run "${part[@]}" --bin "$BIN" > "$log" 2>&1
    rc=$?
    echo "-- $name: exit $rc, $(find "$out" -type f | wc -l) files"
}

expect() {
    if eval "$2"; then echo "   ok: $1"; else echo "   FAILED: $1"; failures=$((failures + 1)); tail -30 "$log"; fi
}

dry_run "clean run"
expect "exits 0" '[ "$rc" -eq 0 ]'
expect "at most 7 files" '[ "$(find "$out" -type f | wc -l)" -le 7 ]'
expect "report.md and results.jsonl written" '[ -s "$out/report.md" ] && [ -s "$out/results.jsonl" ]'
expect "summary printed last" 'tail -n 1 "$log" | grep -q "^files: " && tail -n 14 "$log" | grep -q "^RESULT: PASS"'
expect "every case stage ran" 'for s in smoke verify bench torch; do grep -q "^$s ok" "$out/stages.txt" || exit 1; done'
expect "every case kind verified" 'for op in bf16_gemm_nt cublaslt_gemm_nt m_grouped_fp8_gemm_nt_masked fp8_gemm_nt_skip_head_mid fp8_mqa_logits get_paged_mqa_logits_metadata fp8_paged_mqa_logits per_token_cast_to_fp8; do grep -q "\"stage\": \"verify\", \"case\": \"$op .*\"passed\": true" "$out/results.jsonl" || exit 1; done'

dry_run "part B" --part B
expect "exits 0" '[ "$rc" -eq 0 ]'
expect "only part B families" 'grep -q "fp8_mqa_logits" "$out/results.jsonl" && ! grep -q "bf16_gemm" "$out/results.jsonl"'

dry_run "injected failure in a bitwise case" DG_DEVICE_CHECK_FAKE_FAIL=get_paged_mqa_logits_metadata
expect "exits non-zero" '[ "$rc" -ne 0 ]'
expect "smoke fails with the schedule named" 'grep -q "^smoke FAIL" "$out/stages.txt" && grep -q "^FAIL get_paged_mqa_logits_metadata .*DIFFERS" "$log"'

dry_run "injected failure" DG_DEVICE_CHECK_FAKE_FAIL=masked
expect "exits non-zero" '[ "$rc" -ne 0 ]'
expect "verify fails and the summary says so" 'grep -q "^verify FAIL" "$out/stages.txt" && grep -q "^RESULT: FAIL" "$log"'
expect "at most 7 files" '[ "$(find "$out" -type f | wc -l)" -le 7 ]'

dry_run "injected hang" DG_DEVICE_CHECK_FAKE_HANG=psum
expect "exits non-zero" '[ "$rc" -ne 0 ]'
expect "prints HANG for the case" 'grep -q "^HANG smoke m_grouped_bf16_gemm_nt_contiguous psum" "$log"'
expect "no stage after the hang" 'grep -q "^smoke HANG" "$out/stages.txt" && grep -q "^verify skipped" "$out/stages.txt" && grep -q "^bench skipped" "$out/stages.txt"'
expect "summary present" 'grep -q "^RESULT: FAIL" "$log"'
expect "at most 7 files" '[ "$(find "$out" -type f | wc -l)" -le 7 ]'

if [ "$failures" -gt 0 ]; then
    echo "device check dry-run test: $failures failed"
    exit 1
fi
echo "device check dry-run test: all passed"
