#!/usr/bin/env bash
# Brings the lab up or down: one podman systemd container per tier (proxy, app, db, cache)
# on an internal network, unprivileged, with NET_ADMIN so that firewall rules load.
#   lab/lab.sh up       build the image if its recipe changed, start the hosts
#   lab/lab.sh down     remove the hosts and the network
#   lab/lab.sh status   list the hosts
#   lab/lab.sh network NAME SUBNET   create an internal network (for Molecule scenarios)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/containers.conf}
network=gw-lab
subnet=10.89.40.0/24
hosts=(proxy:10.89.40.11 app:10.89.40.12 db:10.89.40.13 cache:10.89.40.14)

preflight() {
    # Fail early and readably rather than deep inside a playbook.
    command -v podman >/dev/null || { echo "podman is not installed (make deps)" >&2; exit 1; }
    local runtime hint="the lab needs the runc runtime and the settings of"
    hint="$hint $here/containers.conf (CONTAINERS_CONF is now $CONTAINERS_CONF)"
    runtime=$(podman info --format '{{.Host.OCIRuntime.Name}}' 2>&1) || {
        echo "podman cannot run here: $runtime; $hint" >&2; exit 1; }
    if [ "$runtime" != runc ]; then
        echo "podman uses the OCI runtime '$runtime'; $hint" >&2
        exit 1
    fi
}

up() {
    preflight
    local image
    image=$("$here/build-image.sh")
    podman network exists "$network" ||
        podman network create --internal --subnet "$subnet" "$network" >/dev/null
    local entry name ip
    for entry in "${hosts[@]}"; do
        name=gw-lab-${entry%%:*}
        ip=${entry#*:}
        if podman container exists "$name"; then
            [ "$(podman inspect -f '{{.ImageName}}' "$name")" = "$image" ] &&
                [ "$(podman inspect -f '{{.State.Running}}' "$name")" = true ] && continue
            podman rm -f "$name" >/dev/null
        fi
        podman run -d --name "$name" --hostname "${entry%%:*}" --network "$network" \
            --ip "$ip" --cap-add NET_ADMIN --systemd=always "$image" /sbin/init >/dev/null
    done
    for entry in "${hosts[@]}"; do
        wait_booted "gw-lab-${entry%%:*}"
    done
    echo "lab is up: ${hosts[*]}"
}

wait_booted() {
    local state
    for _ in $(seq 1 60); do
        state=$(podman exec "$1" systemctl is-system-running 2>/dev/null || true)
        case "$state" in running|degraded) return 0 ;; esac
        sleep 1
    done
    echo "$1 did not boot (systemd state: ${state:-none})" >&2
    exit 1
}

down() {
    local entry
    for entry in "${hosts[@]}"; do
        podman rm -f "gw-lab-${entry%%:*}" >/dev/null 2>&1 || true
    done
    podman network exists "$network" && podman network rm "$network" >/dev/null
    echo "lab is down"
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    network)
        preflight
        podman network exists "$2" || podman network create --internal --subnet "$3" "$2" >/dev/null
        ;;
    status) podman ps -a --filter name=gw-lab- --format '{{.Names}} {{.Status}}' ;;
    *) echo "usage: $0 up|down|status|network NAME SUBNET" >&2; exit 2 ;;
esac
