#!/bin/sh
# Mutation testing of the engine's connection state machine (issue 5).
#
#   checks/mutants.sh [cargo-mutants options]
#   e.g. checks/mutants.sh --file impl/src/connection/arrives.rs --re 'acceptable|arrive_syn_sent'
#
# Without options: every file of impl/src/connection/ except the fuzzing
# adapter (about 800 mutants).
#
# The test set is the suite that judges the state machine: the refinement
# test against the model (checks/tests/refinement.rs, SYNACK_REFINE_CASES
# cases with a fixed SYNACK_REFINE_SEED so results repeat) and the engine's
# own segment-level, scenario, table and simulation tests in impl/tests.
# The wire, buffer and estimator tests are left out: they cannot see a
# change in impl/src/connection/. Survivors are judged one by one in
# checks/MUTANTS.md.
#
# cargo-mutants works on a copy of the tree (never --in-place), one job, a
# timeout per test run, at opt-level 1 without debug info (compiles and links
# several times faster than the test profile). The unmutated tree is tested
# first: a test that already fails would make every mutant look caught, so
# run it from a clean checkout (`git worktree add`) when others are editing.
#
# Install: cargo install --locked cargo-mutants
set -eu
cd "$(dirname "$0")/.."
if [ "$#" -eq 0 ]; then
    set -- --file impl/src/connection/arrives.rs --file impl/src/connection/user.rs \
        --file impl/src/connection/timers.rs --file impl/src/connection/output.rs \
        --file impl/src/connection/mod.rs --file impl/src/connection/state.rs
fi
: "${SYNACK_REFINE_CASES:=5000}"
: "${SYNACK_REFINE_SEED:=1}"
export SYNACK_REFINE_CASES SYNACK_REFINE_SEED
tests=""
for t in connection_arrives_sync connection_arrives_unsync connection_open \
    connection_send connection_timers connection_user after_peer_fin \
    rfc_scenarios table connection_arbitrary sim refinement; do
    tests="$tests --cargo-arg=--test=$t"
done
# The baseline, run here because cargo-mutants' own would look for every
# test target in the mutated file's package only.
# shellcheck disable=SC2086 # $tests is a list of words on purpose
cargo test --workspace --config=profile.test.opt-level=1 --config=profile.test.debug=0 \
    $(echo $tests | sed 's/--cargo-arg=//g') >/dev/null 2>&1 || {
    echo "mutants.sh: the unmutated tree fails the test set; fix that first" >&2
    exit 2
}
# shellcheck disable=SC2086
exec cargo mutants --workspace "$@" \
    --test-workspace=true --baseline=skip \
    --cargo-arg=--config=profile.test.opt-level=1 \
    --cargo-arg=--config=profile.test.debug=0 $tests \
    --jobs "${MUTANTS_JOBS:-1}" --timeout 300 \
    --output "${MUTANTS_OUT:-target/mutants}"
