#!/bin/sh
# Mutation testing of the engine's connection state machine against the
# refinement test (issue 5). Usage:
#
#   checks/mutants.sh [cargo-mutants options]
#   e.g. checks/mutants.sh --file impl/src/connection/arrives.rs --re 'acceptable|arrive_syn_sent'
#
# Without options: every file of impl/src/connection/ (about 780 mutants; at
# one to two minutes each on two cores, a night's run).
#
# The test set is the refinement test alone: it drives the whole state
# machine against the model in seconds (SYNACK_REFINE_CASES cases, fixed
# SYNACK_REFINE_SEED so that results repeat); survivors are then judged one
# by one in checks/MUTANTS.md. cargo-mutants works on a copy of the tree
# (never --in-place: others edit it), one job, a timeout per test run, and
# builds only the refinement test (so that nobody's unfinished test elsewhere
# in the workspace makes every mutant "unviable"), at opt-level 1 (compiles
# several times faster than the test profile's 3, runs fast enough).
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
exec cargo mutants --workspace "$@" \
    --test-workspace=true --baseline=skip \
    --cargo-arg=--config=profile.test.opt-level=1 --cargo-arg=--test=refinement \
    --jobs 1 --timeout 180 \
    --output "${MUTANTS_OUT:-target/mutants}"
