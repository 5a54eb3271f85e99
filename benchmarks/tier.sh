#!/usr/bin/env bash
# Measures the PostgreSQL role with many tenants as users run it: `ansible-playbook`
# against the lab's db host, first run (install, databases, roles) and idempotent re-run.
#   benchmarks/postgresql.sh [TENANTS]      default 200
# Writes benchmarks/results/postgresql.md and the figures between the markers in README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/lab/containers.conf}
export PATH=$PWD/.venv/bin:$PATH
count=${1:-200}
results=benchmarks/results
work=$(mktemp -d "${TMPDIR:-/tmp}/gw-bench-pg.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$results"

python3 - "$count" "$work" > "$work/vars.json" <<'PY'
import json, sys
count, work = int(sys.argv[1]), sys.argv[2]
tenants = [{"name": "bench_%03d" % n, "database": {"connection_limit": 10}}
           for n in range(count)]
print(json.dumps({"erp_baseline_tenants": tenants, "erp_baseline_secrets_dir": work + "/secrets",
                  "erp_baseline_report_dir": work + "/reports"}))
PY

timed_run() {  # timed_run LOGFILE: prints seconds, fails on error
    local log=$1 start end
    start=$(date +%s.%N)
    ansible-playbook -i inventories/lab/hosts.yml benchmarks/postgresql.yml \
        -e "@$work/vars.json" > "$log" 2>&1 || { tail -30 "$log" >&2; return 1; }
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }'
}

lab/lab.sh down > /dev/null
lab/lab.sh up > /dev/null
first=$(timed_run "$results/postgresql-first.log")
second=$(timed_run "$results/postgresql-second.log")
changed=$(grep -E '^\S+ +: ok=' "$results/postgresql-second.log" | sed -E 's/.*changed=([0-9]+).*/\1/')
{
    echo "| tenants | first run | second run | changed in second run |"
    echo "| ---: | ---: | ---: | ---: |"
    echo "| $count | $first s | $second s | $changed |"
    echo
    echo "Measured $(date -u +%Y-%m-%d) by benchmarks/postgresql.sh on $(nproc) cores:"
    echo "\`ansible-playbook\` with postgresql_baseline against the lab's db container; the"
    echo "first run installs PostgreSQL and creates every database and role."
} > "$results/postgresql.md"
python3 benchmarks/readme_figures.py pg-speed "$results/postgresql.md"
cat "$results/postgresql.md"
