#!/usr/bin/env bash
# Scores a hardened lab host with tools nobody here wrote, next to a fresh host from the
# same image: ssh-audit's "Hardened Debian 12 (version 3)" policy, the Lynis hardening
# index and OpenSCAP's ANSSI BP-028 intermediary profile (SSG content for Debian 12).
# Writes benchmarks/results/scores.md and the figures between the markers in README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/lab/containers.conf}
export PATH=$PWD/.venv/bin:$PATH
results=benchmarks/results
cache=.cache/ssg
mkdir -p "$results" "$cache"
hardened=gw-lab-app
hardened_address=10.89.40.12
fresh=gw-score-fresh
fresh_address=10.89.40.99
profile=xccdf_org.ssgproject.content_profile_anssi_bp28_intermediary
key=.lab/ssh/id_ed25519
ssh_options=(-i "$key" -o BatchMode=yes -o StrictHostKeyChecking=no
             -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR)

ssg_datastream() {
    # Bookworm's SCAP content has no Debian 12 datastream; trixie's arch-independent ssg
    # packages carry it. Download them from the Debian mirror once, without installing.
    local ds="$cache/ssg-debian12-ds.xml"
    if [ ! -f "$ds" ]; then
        local apt_dir="$cache/apt"
        mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
        echo "deb http://deb.debian.org/debian trixie main" > "$apt_dir/sources.list"
        local opts=(-o Dir::Etc::SourceList="$PWD/$apt_dir/sources.list"
                    -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$PWD/$apt_dir/lists"
                    -o Dir::Cache::Archives="$PWD/$apt_dir/archives" -o APT::Architecture=amd64)
        apt-get "${opts[@]}" update -qq >&2
        (cd "$cache" && apt-get "${opts[@]}" download ssg-debian ssg-base >&2)
        for deb in "$cache"/ssg-*.deb; do dpkg-deb -x "$deb" "$cache/root"; done
        find "$cache/root" -name ssg-debian12-ds.xml -exec cp {} "$ds" \;
    fi
    echo "$ds"
}

score_host() {  # score_host CONTAINER ADDRESS LABEL
    local container=$1 address=$2 label=$3 ssh_result lynis openscap
    if ssh-audit -P "Hardened Debian 12 (version 3)" "$address" > "$results/ssh-audit-$label.txt"; then
        ssh_result=passed
    else
        ssh_result=failed
    fi
    if ssh "${ssh_options[@]}" "labadmin@$address" true; then
        ssh_result="$ssh_result, admin key login works"
    else
        ssh_result="$ssh_result, admin key login FAILS"
    fi
    podman exec "$container" sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        lynis openscap-scanner > /dev/null'
    podman exec "$container" lynis audit system --quick --no-colors > "$results/lynis-$label.txt"
    lynis=$(sed -nE 's/.*Hardening index : ([0-9]+).*/\1/p' "$results/lynis-$label.txt")
    podman cp "$datastream" "$container:/root/ssg-debian12-ds.xml"
    podman exec "$container" oscap xccdf eval --profile "$profile" \
        --results /root/oscap-results.xml /root/ssg-debian12-ds.xml > /dev/null 2>&1 || true
    podman cp "$container:/root/oscap-results.xml" "$results/oscap-$label.xml"
    openscap=$(python3 - "$results/oscap-$label.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = {"x": "http://checklists.nist.gov/xccdf/1.2"}
results = [r.find("x:result", ns).text for r in ET.parse(sys.argv[1]).iter(
    "{http://checklists.nist.gov/xccdf/1.2}rule-result")]
passed, failed = results.count("pass"), results.count("fail")
print("%d of %d" % (passed, passed + failed))
PY
)
    echo "| $label | $ssh_result | $lynis | $openscap |"
}

datastream=$(ssg_datastream)
# Fresh lab containers, so that the figures are those of one first run of site.yml.
lab/lab.sh down > /dev/null
lab/lab.sh up > /dev/null
ansible-playbook site.yml --limit gw-lab-app > "$results/score-converge.log"
image=$(podman inspect -f '{{.ImageName}}' "$hardened")
podman rm -f "$fresh" > /dev/null 2>&1 || true
podman run -d --name "$fresh" --hostname fresh --network gw-lab --ip "$fresh_address" \
    --cap-add NET_ADMIN --systemd=always "$image" /sbin/init > /dev/null
trap 'podman rm -f "$fresh" > /dev/null 2>&1' EXIT
sleep 5
{
    echo "| host | ssh-audit policy | Lynis hardening index | ANSSI BP-028 intermediary rules passed |"
    echo "| --- | --- | ---: | ---: |"
    score_host "$fresh" "$fresh_address" fresh
    score_host "$hardened" "$hardened_address" hardened
    echo
    echo "Measured $(date -u +%Y-%m-%d) by benchmarks/score.sh: ssh-audit $(ssh-audit -h 2>&1 |
        sed -nE 's/.*ssh-audit v([0-9.]+).*/\1/p' | head -1), $(podman exec "$hardened" lynis \
        show version) (\`lynis audit system --quick\`), OpenSCAP $(podman exec "$hardened" \
        oscap --version | sed -nE '1s/.* ([0-9.]+)$/\1/p') with SSG's ssg-debian12-ds.xml."
} > "$results/scores.md"
python3 benchmarks/readme_figures.py scores "$results/scores.md"
cat "$results/scores.md"
