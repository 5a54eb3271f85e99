# shellcheck shell=bash
# Steps shared by the lab's two image builders: build-image.sh (the podman target image)
# and vm.sh (the VM disk). Sourced, not run; each function acts on a debootstrapped
# root filesystem given as its first argument.

# The admin's key pair, made once and shared by every lab target, containers and VMs.
rootfs_admin_key() {
    local state=$1 admin=$2
    mkdir -p "$state/ssh"
    chmod 0700 "$state" "$state/ssh"
    [ -f "$state/ssh/id_ed25519" ] ||
        ssh-keygen -q -t ed25519 -N '' -C "$admin@lab" -f "$state/ssh/id_ed25519"
}

# debootstrap with its chatter in a log, shown only when it fails.
rootfs_bootstrap() {
    local rootfs=$1 suite=$2 mirror=$3 packages=$4 log=$5
    debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" \
        > "$log" 2>&1 || { tail -20 "$log" >&2; return 1; }
}

# Targets have no network, so the packages the roles install travel inside the image as
# a local apt repository: downloaded (not installed), with their dependencies resolved
# against this very rootfs, and indexed. It becomes the only apt source, so a role run
# installs them with apt as on a real host and a check-mode run sees them missing.
rootfs_apt_repo() {
    local rootfs=$1 packages_file=$2 wanted repo
    wanted=$(grep -v '^\s*#' "$packages_file" | grep -v '^\s*$' | tr '\n' ' ')
    chroot "$rootfs" apt-get update -qq
    # shellcheck disable=SC2086  # one word per package
    chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -qq -y --download-only --no-install-recommends $wanted > /dev/null
    repo="$rootfs/srv/lab-apt"
    mkdir -p "$repo"
    mv "$rootfs"/var/cache/apt/archives/*.deb "$repo/"
    (cd "$repo" && dpkg-scanpackages --multiversion . /dev/null 2>/dev/null |
        gzip -9 > Packages.gz)
    rm -f "$rootfs"/etc/apt/sources.list.d/*
    echo "deb [trusted=yes] file:/srv/lab-apt ./" > "$rootfs/etc/apt/sources.list"
    printf 'APT::Install-Recommends "false";\n' > "$rootfs/etc/apt/apt.conf.d/90lab-no-recommends"
    chroot "$rootfs" apt-get update -qq
    chroot "$rootfs" apt-get clean
}

# The admin user: unprivileged, key-only, passwordless sudo, as on a fresh cloud VM.
rootfs_admin_user() {
    local rootfs=$1 admin=$2 pubkey=$3
    chroot "$rootfs" useradd --create-home --shell /bin/bash "$admin"
    install -d -m 0700 -o 0 -g 0 "$rootfs/home/$admin/.ssh"
    install -m 0600 "$pubkey" "$rootfs/home/$admin/.ssh/authorized_keys"
    chroot "$rootfs" chown -R "$admin:$admin" "/home/$admin/.ssh"
    echo "$admin ALL=(ALL) NOPASSWD:ALL" > "$rootfs/etc/sudoers.d/90-lab-admin"
    chmod 0440 "$rootfs/etc/sudoers.d/90-lab-admin"
}

# Each target gets its own machine-id and SSH host keys at first boot, not copies of
# the image's; sshd starts at boot.
rootfs_first_boot_identity() {
    local rootfs=$1
    chroot "$rootfs" systemctl enable ssh.service >/dev/null 2>&1
    : > "$rootfs/etc/machine-id"
    rm -f "$rootfs"/etc/ssh/ssh_host_*
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
}
