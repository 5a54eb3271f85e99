#!/usr/bin/env bash
# Builds the lab's Debian systemd target image from Debian packages, with no registry:
# debootstrap, a local apt repository holding every package the roles install, and an
# unprivileged admin user with an SSH key and passwordless sudo.
# The image tag is a hash of the recipe, so the image is rebuilt only when the recipe
# (this script, packages.txt, the suite, the admin key) changes.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
suite=${LAB_SUITE:-bookworm}
mirror=${LAB_MIRROR:-http://deb.debian.org/debian}
state=${LAB_STATE_DIR:-$root/.lab}
admin=${LAB_ADMIN_USER:-labadmin}
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/containers.conf}

base_packages=systemd,systemd-sysv,dbus,python3,python3-apt,openssh-server,sudo,iproute2,procps,kmod,ca-certificates,less,ssl-cert

mkdir -p "$state/ssh"
chmod 0700 "$state" "$state/ssh"
key="$state/ssh/id_ed25519"
[ -f "$key" ] || ssh-keygen -q -t ed25519 -N '' -C "$admin@lab" -f "$key"

recipe_hash=$(cat "$0" "$here/packages.txt" "$key.pub" <(echo "$suite $admin $base_packages") \
    | sha256sum | cut -c1-12)
image="localhost/gw-lab-$suite:$recipe_hash"

if podman image exists "$image"; then
    echo "$image"
    exit 0
fi

wanted=$(grep -v '^\s*#' "$here/packages.txt" | grep -v '^\s*$' | tr '\n' ' ')
rootfs=$(mktemp -d "${TMPDIR:-/tmp}/gw-lab-rootfs.XXXXXX")
trap 'rm -rf "$rootfs"' EXIT

echo "building $image (debootstrap $suite, about a minute)" >&2
debootstrap --variant=minbase --include="$base_packages" "$suite" "$rootfs" "$mirror" \
    > "$state/debootstrap.log" 2>&1 || { tail -20 "$state/debootstrap.log" >&2; exit 1; }

# Download, do not install, what the roles will install, with its dependencies
# resolved against this very rootfs.
chroot "$rootfs" apt-get update -qq
chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -qq -y --download-only --no-install-recommends $wanted > /dev/null
repo="$rootfs/srv/lab-apt"
mkdir -p "$repo"
mv "$rootfs"/var/cache/apt/archives/*.deb "$repo/"
(cd "$repo" && dpkg-scanpackages --multiversion . /dev/null 2>/dev/null | gzip -9 > Packages.gz)

# The local repository is the image's only apt source: targets have no network.
rm -f "$rootfs"/etc/apt/sources.list.d/*
echo "deb [trusted=yes] file:/srv/lab-apt ./" > "$rootfs/etc/apt/sources.list"
printf 'APT::Install-Recommends "false";\n' > "$rootfs/etc/apt/apt.conf.d/90lab-no-recommends"
chroot "$rootfs" apt-get update -qq
chroot "$rootfs" apt-get clean

# The admin user: unprivileged, key-only, passwordless sudo, as on a fresh cloud VM.
chroot "$rootfs" useradd --create-home --shell /bin/bash "$admin"
install -d -m 0700 -o 0 -g 0 "$rootfs/home/$admin/.ssh"
install -m 0600 "$key.pub" "$rootfs/home/$admin/.ssh/authorized_keys"
chroot "$rootfs" chown -R "$admin:$admin" "/home/$admin/.ssh"
echo "$admin ALL=(ALL) NOPASSWD:ALL" > "$rootfs/etc/sudoers.d/90-lab-admin"
chmod 0440 "$rootfs/etc/sudoers.d/90-lab-admin"

# Container hygiene: no console getty, a machine-id made at boot, sshd started at boot.
chroot "$rootfs" systemctl mask getty@tty1.service console-getty.service >/dev/null 2>&1 || true
chroot "$rootfs" systemctl enable ssh.service >/dev/null 2>&1
: > "$rootfs/etc/machine-id"
rm -f "$rootfs"/etc/ssh/ssh_host_*
# Host keys are generated on first boot, so each lab host has its own.
cat > "$rootfs/etc/systemd/system/lab-ssh-hostkeys.service" <<'UNIT'
[Unit]
Description=Generate SSH host keys on first boot
Before=ssh.service
ConditionPathExistsGlob=!/etc/ssh/ssh_host_*_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
UNIT
chroot "$rootfs" systemctl enable lab-ssh-hostkeys.service >/dev/null 2>&1

tar -C "$rootfs" -c . | podman import --quiet \
    --change 'CMD ["/sbin/init"]' --change 'STOPSIGNAL=SIGRTMIN+3' - "$image" > /dev/null
echo "$image"
