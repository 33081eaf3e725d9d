#!/usr/bin/env bash
# Fault soak of Mega MoE on rank processes: many `deepgemm moe --processes` runs on a tiny layer,
# killing a random rank at a random point (through the DG_MEGA_MOE_FAULT test hook at a chosen
# phase of a chosen call, or with SIGKILL from here after a random delay) or sending SIGINT/SIGTERM
# to the launcher, each faulted run followed by a clean run on a new buffer. Checks:
#   - rank kills: the run fails; every survivor that fails names the killed rank (it died, or did
#     not arrive) and the run ends within the ranks' timeout;
#   - launcher signals: the launcher stops its ranks and ends by the signal within the timeout;
#   - after every run: no shared-memory segment of the run, no rank process and no temporary
#     directory is left behind;
#   - clean runs: the fused op equals the unfused pipeline bit for bit.
# Exits non-zero on any violation; prints runs, calls, kills and leaked segments.
#
#   scripts/moe-soak.sh                 # short form (CI): about 1-2 minutes
#   scripts/moe-soak.sh --calls 5000    # long form
# Options: --calls N (fused calls per rank over all runs, default 400), --calls-per-run N (20),
# --ranks R (3), --seed S (random), --timeout SECONDS (rank wait timeout, 10), --deepgemm PATH
# (default: build with `swift build -c release` and use .build/release/deepgemm).
set -uo pipefail
cd "$(dirname "$0")/.."

calls=400 calls_per_run=20 ranks=3 seed=$RANDOM timeout=10 deepgemm=""
while [ $# -gt 0 ]; do
    case "$1" in
        --calls) calls=$2; shift 2 ;;
        --calls-per-run) calls_per_run=$2; shift 2 ;;
        --ranks) ranks=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        --deepgemm) deepgemm=$2; shift 2 ;;
        *) echo "moe-soak: unknown option '$1'" >&2; exit 2 ;;
    esac
done
if [ -z "$deepgemm" ]; then
    swift build -c release --product deepgemm >&2 || exit 2
    deepgemm="$(swift build -c release --show-bin-path)/deepgemm"
fi
RANDOM=$seed

work=$(mktemp -d "${TMPDIR:-/tmp}/deepgemm-soak.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tmp"
tag="soak$$"
layer=(--ranks "$ranks" --processes --tokens 7 --experts 6 --topk 2 --hidden 512 --intermediate 512
       --min-seconds 0 --calls "$calls_per_run" --rank-timeout "$timeout")
phases=(publish pull experts combine)

shm_count() { find /dev/shm -maxdepth 1 -name "deepgemm-$1*" 2>/dev/null | wc -l; }
now() { date +%s.%N; }
elapsed() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.3f", a - b }'; }
later_than() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }

rank_life=0.2 runs=0 clean=0 hook_kills=0 external_kills=0 missed=0 signals=0 done_calls=0 leaked=0 violations=0
segments_before=$(shm_count "")

violation() {
    violations=$((violations + 1))
    echo "moe-soak: VIOLATION (run $runs, $1): $2" >&2
    sed 's/^/    | /' "$work/err" | tail -n 8 >&2
}

# Starts one run in the background with job id $tag-$runs; sets pid and start.
start_run() {
    runs=$((runs + 1))
    env TMPDIR="$work/tmp" "$@" "$deepgemm" moe "${layer[@]}" --job-id "$tag-$runs" >"$work/out" 2>"$work/err" &
    pid=$! start=$(now)
}

# The pids of the rank processes of launcher $pid with their ranks, as "pid rank" lines; waits up
# to 20 s for all of them to start (nothing when the launcher ends first).
rank_pids() {
    local tries=0 children
    while [ $tries -lt 2000 ] && kill -0 "$pid" 2>/dev/null; do
        children=$(pgrep -P "$pid" || true)
        if [ "$(echo "$children" | grep -c .)" -ge "$ranks" ]; then
            for child in $children; do
                echo "$child $(tr '\0' '\n' 2>/dev/null </proc/"$child"/environ | sed -n 's/^DG_MEGA_MOE_RANK=//p')"
            done
            return
        fi
        sleep 0.01
        tries=$((tries + 1))
    done
}

# After every run: nothing of it may be left behind.
check_leftovers() {
    local kind=$1 segments
    segments=$(shm_count "$tag-$runs-")
    if [ "$segments" -gt 0 ]; then
        leaked=$((leaked + segments))
        violation "$kind" "$segments shared-memory segment(s) left: $(ls /dev/shm | grep "deepgemm-$tag-$runs-")"
        rm -f /dev/shm/deepgemm-"$tag-$runs"-*
    fi
    if pgrep -f -- "--output-dir $work/tmp" >/dev/null; then
        violation "$kind" "rank processes left running: $(pgrep -f -- "--output-dir $work/tmp" | tr '\n' ' ')"
    fi
    if [ -n "$(ls -A "$work/tmp")" ]; then
        violation "$kind" "temporary files left: $(ls -A "$work/tmp" | tr '\n' ' ')"
        rm -rf "${work:?}/tmp/"*
    fi
}

clean_run() {
    start_run
    rank_pids >/dev/null
    local up
    up=$(now)
    wait "$pid"
    local status=$?
    # How long the ranks of a run live: external kills land at a random point of that span.
    rank_life=$(elapsed "$up")
    if [ $status -ne 0 ] || ! grep -q "fused == unfused: bitwise equal" "$work/out"; then
        violation clean "status $status, fused and unfused must agree bit for bit on a new buffer"
    fi
    clean=$((clean + 1)) done_calls=$((done_calls + calls_per_run))
    check_leftovers clean
}

# Checks a run in which rank $1 was killed at about time $2 (the run's start for the hook).
check_rank_kill() {
    local victim=$1 since=$2 kind=$3 status=$4 took
    took=$(elapsed "$since")
    if later_than "$took" "$((timeout + 10))"; then violation "$kind" "the run took ${took}s after the kill (timeout ${timeout}s)"; fi
    if [ "$status" -eq 0 ]; then
        # The victim had finished its calls before the kill landed.
        [ "$kind" = external ] || violation "$kind" "the run succeeded although rank $victim was killed"
        missed=$((missed + 1))
        return
    fi
    [ "$kind" = external ] && external_kills=$((external_kills + 1))
    grep -q "rank $victim (pid [0-9]*): killed by signal 9" "$work/err" ||
        violation "$kind" "the launcher does not report rank $victim killed by SIGKILL"
    while read -r line; do
        case "$line" in
            *"rank $victim died"* | *"rank $victim did not arrive"*) ;;
            *) violation "$kind" "a survivor names the wrong failure: $line" ;;
        esac
    done < <(grep -E "^moe-rank [0-9]+: " "$work/err")
}

hook_kill() {
    # A rank killed while combining its last call leaves nothing for its peers to wait for.
    local victim=$((RANDOM % ranks)) phase=${phases[$((RANDOM % 4))]} call last=$((calls_per_run - 1))
    if [ "$phase" = combine ]; then last=$((calls_per_run - 2)); fi
    call=$((RANDOM % (last + 1)))
    start_run DG_MEGA_MOE_FAULT="$victim:$phase:$call"
    wait "$pid"
    check_rank_kill "$victim" "$start" "hook $victim:$phase:$call" $?
    hook_kills=$((hook_kills + 1)) done_calls=$((done_calls + call + 1))
    check_leftovers hook
}

external_kill() {
    start_run
    local ranks_up victim victim_pid delay
    ranks_up=$(rank_pids)
    if [ -n "$ranks_up" ]; then
        victim_pid=$(echo "$ranks_up" | sed -n "$((RANDOM % ranks + 1))p" | cut -d' ' -f1)
        victim=$(echo "$ranks_up" | awk -v p="$victim_pid" '$1 == p { print $2 }')
        delay=$(awk -v life="$rank_life" -v r=$RANDOM 'BEGIN { printf "%.3f", life * r / 32768 }')
        sleep "$delay"
        local killed_at
        killed_at=$(now)
        kill -KILL "$victim_pid" 2>/dev/null
    fi
    wait "$pid"
    local status=$?
    if [ -z "$ranks_up" ]; then
        violation external "the rank processes never started (status $status)"
    else
        check_rank_kill "$victim" "$killed_at" external $status
    fi
    check_leftovers external
}

launcher_signal() {
    local signal delay status took sent
    signal=$([ $((RANDOM % 2)) = 0 ] && echo INT || echo TERM)
    start_run
    # Half of the signals land while the ranks run, the others at any time from the start.
    if [ $((RANDOM % 2)) = 0 ]; then rank_pids >/dev/null; fi
    delay=$(printf '0.%03d' $((RANDOM % 1000)))
    sleep "$delay"
    sent=$(now)
    kill -"$signal" "$pid" 2>/dev/null
    wait "$pid"
    status=$? took=$(elapsed "$sent")
    local expected=$((128 + $(kill -l "$signal")))
    if [ $status -ne $expected ] && [ $status -ne 0 ]; then
        violation "SIG$signal" "the launcher ended with status $status, not by the signal ($expected) or done (0)"
    fi
    if later_than "$took" "$((timeout + 10))"; then violation "SIG$signal" "the launcher took ${took}s to stop"; fi
    signals=$((signals + 1))
    check_leftovers "SIG$signal"
}

echo "moe-soak: $deepgemm, seed $seed, $ranks ranks, $calls_per_run calls per run, up to $calls calls, rank timeout ${timeout}s" >&2
soak_start=$(now)
clean_run
while [ $done_calls -lt "$calls" ]; do
    case $((RANDOM % 8)) in
        0 | 1 | 2 | 3) hook_kill ;;
        4 | 5) external_kill ;;
        *) launcher_signal ;;
    esac
    clean_run
done
segments_after=$(shm_count "")
printf 'moe-soak: runs %d (clean %d), fused calls per rank %d, kills %d (hook %d, external %d; %d external kills came after the ranks finished), launcher signals %d, leaked segments %d (/dev/shm deepgemm-* before %d, after %d), violations %d, %.0f s\n' \
    "$runs" "$clean" "$done_calls" "$((hook_kills + external_kills))" "$hook_kills" "$external_kills" "$missed" "$signals" \
    "$leaked" "$segments_before" "$segments_after" "$violations" "$(elapsed "$soak_start")"
[ "$violations" -eq 0 ]
