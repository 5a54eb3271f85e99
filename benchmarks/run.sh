#!/usr/bin/env bash
# Measures site.yml as users run it: wall time of the first and the second (idempotent)
# run, on 1 and on 4 lab hosts, each from freshly started lab containers.
# Writes benchmarks/results/speed.md and the figures between the markers in README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/lab/containers.conf}
export PATH=$PWD/.venv/bin:$PATH
results=benchmarks/results
mkdir -p "$results"

timed_run() {  # timed_run LOGFILE [ansible-playbook args]: prints seconds, fails on error
    local log=$1 start end
    shift
    start=$(date +%s.%N)
    ansible-playbook site.yml "$@" > "$log" 2>&1 || { tail -30 "$log" >&2; return 1; }
    end=$(date +%s.%N)
    grep -q 'changed=' "$log"
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }'
}

changed_total() {
    grep -E '^\S+ +: ok=' "$1" | sed -E 's/.*changed=([0-9]+).*/\1/' | awk '{ s += $1 } END { print s }'
}

measure() {  # measure LABEL LIMIT
    lab/lab.sh down > /dev/null
    lab/lab.sh up > /dev/null
    local first second
    first=$(timed_run "$results/$1-first.log" --limit "$2")
    second=$(timed_run "$results/$1-second.log" --limit "$2")
    echo "| $1 | $first s | $second s | $(changed_total "$results/$1-second.log") |"
}

{
    echo "| hosts | first run | second run | changed in second run |"
    echo "| --- | ---: | ---: | ---: |"
    measure "1 host" gw-lab-app
    measure "4 hosts" all
} > "$results/speed.md.new"
mv "$results/speed.md.new" "$results/speed.md"
{
    echo
    echo "Measured $(date -u +%Y-%m-%d) by benchmarks/run.sh on $(nproc) cores, $(
        free -g | awk '/^Mem:/ {print $2}') GiB: \`ansible-playbook site.yml\` against the"
    echo "lab's podman containers, each measurement from freshly started containers."
} >> "$results/speed.md"
python3 benchmarks/readme_figures.py speed "$results/speed.md"
cat "$results/speed.md"
