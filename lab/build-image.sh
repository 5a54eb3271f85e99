#!/usr/bin/env bash
# Builds the lab's Debian systemd target image from Debian packages, with no registry:
# debootstrap, a local apt repository holding every package the roles install, and an
# unprivileged admin user with an SSH key and passwordless sudo (steps shared with the VM
# image in rootfs.sh). The image tag is a hash of the recipe, so the image is rebuilt
# only when the recipe (this script, rootfs.sh, packages.txt, the suite, the admin key)
# changes.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
suite=${LAB_SUITE:-bookworm}
mirror=${LAB_MIRROR:-http://deb.debian.org/debian}
state=${LAB_STATE_DIR:-$root/.lab}
admin=${LAB_ADMIN_USER:-labadmin}
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/containers.conf}

base_packages=systemd,systemd-sysv,dbus,python3,python3-apt,openssh-server,sudo,iproute2,procps,kmod,ca-certificates,less,ssl-cert

# shellcheck source=lab/rootfs.sh
. "$here/rootfs.sh"
rootfs_admin_key "$state" "$admin"
key="$state/ssh/id_ed25519"

recipe_hash=$(cat "$0" "$here/rootfs.sh" "$here/packages.txt" "$key.pub" \
    <(echo "$suite $admin $base_packages") | sha256sum | cut -c1-12)
image="localhost/gw-lab-$suite:$recipe_hash"

if podman image exists "$image"; then
    echo "$image"
    exit 0
fi

rootfs=$(mktemp -d "${TMPDIR:-/tmp}/gw-lab-rootfs.XXXXXX")
trap 'rm -rf "$rootfs"' EXIT

echo "building $image (debootstrap $suite, about a minute)" >&2
rootfs_bootstrap "$rootfs" "$suite" "$mirror" "$base_packages" "$state/debootstrap.log"
rootfs_apt_repo "$rootfs" "$here/packages.txt"
rootfs_admin_user "$rootfs" "$admin" "$key.pub"
rootfs_first_boot_identity "$rootfs"
# Container hygiene: no console getty.
chroot "$rootfs" systemctl mask getty@tty1.service console-getty.service >/dev/null 2>&1 || true

tar -C "$rootfs" -c . | podman import --quiet \
    --change 'CMD ["/sbin/init"]' --change 'STOPSIGNAL=SIGRTMIN+3' - "$image" > /dev/null
echo "$image"
