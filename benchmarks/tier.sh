#!/usr/bin/env bash
# Measures one tier's role with many tenants as users run it: `ansible-playbook` against
# the lab's host of that tier, first run (install, every tenant) and idempotent re-run.
#   benchmarks/tier.sh postgresql [TENANTS]   default 200: databases and their roles
#   benchmarks/tier.sh redis [TENANTS]        default 500: ACL users, one per tenant
# Writes benchmarks/results/<tier>.md and the figures between the README's markers.
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/lab/containers.conf}
export PATH=$PWD/.venv/bin:$PATH
tier=${1:?usage: benchmarks/tier.sh postgresql|redis [TENANTS]}
case $tier in
    postgresql) group=db; count=${2:-200}; what="creates every database and role" ;;
    redis) group=cache; count=${2:-500}; what="creates every tenant's ACL user" ;;
    *) echo "unknown tier $tier: postgresql or redis" >&2; exit 2 ;;
esac
results=benchmarks/results
work=$(mktemp -d "${TMPDIR:-/tmp}/gw-bench-$tier.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$results"

python3 - "$count" "$work" "$tier" "$group" > "$work/vars.json" <<'PY'
import json, sys
count, work, tier, group = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
tenants = [{"name": "bench_%03d" % n, "database": {"connection_limit": 10}}
           for n in range(count)]
print(json.dumps({"erp_baseline_tenants": tenants, "erp_baseline_secrets_dir": work + "/secrets",
                  "erp_baseline_report_dir": work + "/reports",
                  "bench_role": tier + "_baseline", "bench_group": group}))
PY

timed_run() {  # timed_run LOGFILE: prints seconds, fails on error
    local log=$1 start end
    start=$(date +%s.%N)
    ansible-playbook -i inventories/lab/hosts.yml benchmarks/tier.yml \
        -e "@$work/vars.json" > "$log" 2>&1 || { tail -30 "$log" >&2; return 1; }
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }'
}

lab/lab.sh down > /dev/null
lab/lab.sh up > /dev/null
first=$(timed_run "$results/$tier-first.log")
second=$(timed_run "$results/$tier-second.log")
changed=$(grep -E '^\S+ +: ok=' "$results/$tier-second.log" | sed -E 's/.*changed=([0-9]+).*/\1/')
{
    echo "| tenants | first run | second run | changed in second run |"
    echo "| ---: | ---: | ---: | ---: |"
    echo "| $count | $first s | $second s | $changed |"
    echo
    echo "Measured $(date -u +%Y-%m-%d) by benchmarks/tier.sh $tier on $(nproc) cores:"
    echo "\`ansible-playbook\` with ${tier}_baseline against the lab's $group container; the"
    echo "first run installs the server and $what."
} > "$results/$tier.md"
python3 benchmarks/readme_figures.py "$tier-speed" "$results/$tier.md"
cat "$results/$tier.md"
