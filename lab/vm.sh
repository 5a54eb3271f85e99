#!/usr/bin/env bash
# Debian virtual machines under qemu, for what a container cannot show: sysctls applied,
# /tmp and /dev/shm mounted noexec, auditd loading rules, nftables, and sshd reloads
# proven over real SSH.
#   lab/vm.sh image              build the base disk if its recipe changed; print its folder
#   lab/vm.sh start NAME PORT    boot NAME on a fresh overlay, SSH on 127.0.0.1:PORT
#   lab/vm.sh stop NAME          stop NAME and remove its overlay
#   lab/vm.sh status             list the VMs that run
# Software emulation only: /dev/kvm opens on these machines but KVM guests stall or die.
# The guest's user network has restrict=on: it reaches nothing, and only its SSH port is
# forwarded, on loopback.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
suite=${LAB_SUITE:-bookworm}
mirror=${LAB_MIRROR:-http://deb.debian.org/debian}
state=${LAB_STATE_DIR:-$root/.lab}
admin=${LAB_ADMIN_USER:-labadmin}
boot_timeout=${LAB_VM_BOOT_TIMEOUT:-180}
vm_dir=$state/vm
key=$state/ssh/id_ed25519

# The container image's packages plus what a machine needs to boot: a kernel and its
# initramfs, udev for the disk and network devices, e2fsprogs to check the root
# filesystem. systemd-networkd, part of systemd, takes the user network's DHCP lease.
base_packages=systemd,systemd-sysv,udev,dbus,linux-image-amd64,initramfs-tools,e2fsprogs
base_packages+=,python3,python3-apt,openssh-server,sudo,iproute2,procps,kmod
base_packages+=,ca-certificates,less,ssl-cert

# The roles install their packages from the local repository, as on a real host, except
# those whose maintainer scripts take many minutes under emulation and seconds here:
# aide-common runs ucf once for each of its 200 rule files (20 minutes in the guest) and
# rkhunter records the properties of every system binary (over 10 minutes). They come
# installed, from the same repository; AIDE's database is still the role's to make.
preinstalled="aide aide-common rkhunter"

# shellcheck source=lab/rootfs.sh
. "$here/rootfs.sh"

usage() {
    echo "usage: $0 image | start NAME PORT | stop NAME | status" >&2
    exit 2
}

# ---- the base image -------------------------------------------------------------------

recipe_hash() {
    cat "$here/vm.sh" "$here/rootfs.sh" "$here/packages.txt" "$key.pub" \
        <(echo "$suite $admin $base_packages $preinstalled") | sha256sum | cut -c1-12
}

image() {
    rootfs_admin_key "$state" "$admin"
    local base
    base="$vm_dir/base-$suite-$(recipe_hash)"
    [ -f "$base/disk.qcow2" ] || build "$base" >&2
    echo "$base"
}

build() {
    local base=$1
    echo "building the VM image $base (debootstrap $suite, a few minutes)" >&2
    mkdir -p "$vm_dir"
    rm -rf "$base.partial"
    mkdir "$base.partial"
    # Global, not local: the EXIT trap runs after this function has returned.
    rootfs=$(mktemp -d "${TMPDIR:-/tmp}/gw-vm-rootfs.XXXXXX")
    trap 'rm -rf "$rootfs"' EXIT
    rootfs_bootstrap "$rootfs" "$suite" "$mirror" "$base_packages" "$vm_dir/debootstrap.log"
    rootfs_apt_repo "$rootfs" "$here/packages.txt"
    rootfs_admin_user "$rootfs" "$admin" "$key.pub"
    rootfs_first_boot_identity "$rootfs"
    configure_guest "$rootfs"
    preinstall "$rootfs"
    # qemu boots the kernel directly: no boot loader to install or to wait for.
    cp "$rootfs"/boot/vmlinuz-* "$base.partial/vmlinuz"
    cp "$rootfs"/boot/initrd.img-* "$base.partial/initrd.img"
    write_disk "$rootfs" "$base.partial/disk.qcow2"
    # Renamed only when complete, so an interrupted build is never taken for an image.
    mv "$base.partial" "$base"
    find "$vm_dir" -maxdepth 1 -name 'base-*' ! -path "$base" -exec rm -rf {} +
}

configure_guest() {
    local rootfs=$1
    echo gw-vm > "$rootfs/etc/hostname"
    # sudo looks the host name up; without this line every sudo waits for a resolver.
    printf '127.0.0.1 localhost\n127.0.1.1 gw-vm\n' > "$rootfs/etc/hosts"
    echo '/dev/vda / ext4 errors=remount-ro 0 1' > "$rootfs/etc/fstab"
    cat > "$rootfs/etc/systemd/network/80-lab-dhcp.network" <<'NETWORK'
# qemu's user network hands out 10.0.2.15 by DHCP; the host is 10.0.2.2 from here.
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
NETWORK
    chroot "$rootfs" systemctl enable systemd-networkd.service >/dev/null 2>&1
    # Host keys made here, natively, rather than at first boot, where the emulated CPU
    # spends 17 s on them: the VMs of one base share keys, which no test relies on.
    chroot "$rootfs" ssh-keygen -A >/dev/null
    # Nothing for it to reap without LVM, and it costs boot time.
    chroot "$rootfs" systemctl mask e2scrub_reap.service >/dev/null 2>&1
}

preinstall() {
    # shellcheck disable=SC2086  # one word per package
    chroot "$1" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -qq -y --no-install-recommends $preinstalled > /dev/null
    chroot "$1" apt-get clean
}

write_disk() {
    local rootfs=$1 disk=$2
    # A sparse 4 GiB file system leaves room for what the roles install; qcow2 stores
    # only the blocks in use.
    truncate -s 4G "$disk.raw"
    mkfs.ext4 -q -F -L gw-root -d "$rootfs" "$disk.raw"
    qemu-img convert -O qcow2 "$disk.raw" "$disk"
    rm -f "$disk.raw"
}

# ---- running VMs ----------------------------------------------------------------------

run_dir() {
    echo "$vm_dir/run/$1"
}

# The PID in the PID file, only while it is still this VM's qemu (PIDs get reused).
vm_pid() {
    local pidfile pid
    pidfile="$(run_dir "$1")/qemu.pid"
    [ -f "$pidfile" ] || return 1
    pid=$(cat "$pidfile")
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = qemu-system-x86 ] &&
        tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "-name $1 -accel " || return 1
    echo "$pid"
}

check_args() {
    local name=$1 port=$2
    [[ $name =~ ^[a-z0-9][a-z0-9-]{0,30}$ ]] ||
        { echo "VM name '$name': use lower-case letters, digits and dashes" >&2; exit 2; }
    if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1024 || port > 65535)); then
        echo "port '$port': use a number from 1024 to 65535" >&2
        exit 2
    fi
    command -v qemu-system-x86_64 >/dev/null ||
        { echo "qemu-system-x86_64 is not installed (make deps)" >&2; exit 1; }
    if vm_pid "$name" >/dev/null; then
        echo "VM $name is already running; lab/vm.sh stop $name first" >&2
        exit 1
    fi
    if [ -n "$(ss -Hltn "sport = :$port")" ]; then
        echo "port $port on this machine is taken; choose another" >&2
        exit 1
    fi
}

start() {
    local name=$1 port=$2 base run
    check_args "$name" "$port"
    base=$(image)
    run=$(run_dir "$name")
    mkdir -p "$run"
    rm -f "$run/disk.qcow2" "$run/serial.log"
    # A copy-on-write overlay: a clean disk in a hundredth of a second, the base untouched.
    qemu-img create -q -f qcow2 -F qcow2 -b "$base/disk.qcow2" "$run/disk.qcow2"
    # cache=unsafe: the overlay is thrown away with the VM, so flushes buy nothing.
    # virtio-rng feeds the guest's entropy pool from the host, so nothing waits for it.
    # romfile= skips the network boot ROM that a direct kernel boot never uses.
    qemu-system-x86_64 -name "$name" \
        -accel tcg -cpu max -smp 1 -m 1024 \
        -nodefaults -no-user-config -display none \
        -kernel "$base/vmlinuz" -initrd "$base/initrd.img" \
        -append "root=/dev/vda rw console=ttyS0" \
        -drive "file=$run/disk.qcow2,format=qcow2,if=virtio,cache=unsafe" \
        -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$port-:22" \
        -device virtio-net-pci,netdev=n0,romfile= \
        -device virtio-rng-pci \
        -serial "file:$run/serial.log" \
        -pidfile "$run/qemu.pid" -daemonize
    echo "$port" > "$run/port"
    wait_for_ssh "$name" "$port"
}

ssh_answers() {
    timeout 30 ssh -q -i "$key" -p "$1" -o BatchMode=yes -o ConnectTimeout=10 \
        -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
        "$admin@127.0.0.1" true 2>/dev/null
}

wait_for_ssh() {
    local name=$1 port=$2 started=$SECONDS
    until ssh_answers "$port"; do
        if ! vm_pid "$name" >/dev/null; then
            boot_failed "$name" "qemu exited during boot"
        elif ((SECONDS - started >= boot_timeout)); then
            stop "$name" >/dev/null
            boot_failed "$name" "no SSH answer on 127.0.0.1:$port after ${boot_timeout} s"
        fi
        sleep 2
    done
    echo "VM $name: SSH answers on 127.0.0.1:$port after $((SECONDS - started)) s" >&2
}

boot_failed() {
    local log
    log="$(run_dir "$1")/serial.log"
    echo "VM $1: $2. Last lines of its console ($log):" >&2
    tail -n 25 "$log" >&2 2>/dev/null || true
    exit 1
}

stop() {
    local name=$1 run pid
    run=$(run_dir "$name")
    if pid=$(vm_pid "$name"); then
        kill "$pid"
        for _ in $(seq 1 20); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    # The serial log stays for a post-mortem; the next start replaces it.
    rm -f "$run/disk.qcow2" "$run/qemu.pid" "$run/port"
    echo "VM $name stopped"
}

status() {
    local run name
    for run in "$vm_dir"/run/*/; do
        [ -d "$run" ] || continue
        name=$(basename "$run")
        vm_pid "$name" >/dev/null && echo "$name 127.0.0.1:$(cat "$run/port")"
    done
    return 0
}

case "${1:-}" in
    image) [ $# -eq 1 ] || usage; image ;;
    start) [ $# -eq 3 ] || usage; start "$2" "$3" ;;
    stop) [ $# -eq 2 ] || usage; stop "$2" ;;
    status) status ;;
    *) usage ;;
esac
