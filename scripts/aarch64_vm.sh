#!/usr/bin/env bash
# An EMULATED Raspberry Pi 4 stand-in: a Debian bookworm arm64 VM (qemu-system-aarch64, TCG,
# -M virt -cpu cortex-a72), reached over SSH on a loopback port, for `asmnet-edge bench --target ssh://`.
#
#   scripts/aarch64_vm.sh build    # once: debootstrap rootfs, kernel + initrd, disk image (cached)
#   scripts/aarch64_vm.sh start    # boot, wait until SSH answers, print the bench target
#   scripts/aarch64_vm.sh status   # running or not, port, target
#   scripts/aarch64_vm.sh ssh [command...]   # log in as pi (or run a command)
#   scripts/aarch64_vm.sh stop     # clean poweroff (then SIGTERM if it hangs)
#   scripts/aarch64_vm.sh reset    # forget the VM's writable disk (keeps the built base image)
#
# Everything large lives in the cache folder, never in the repository:
#   ASMNET_VM_CACHE  (default ${XDG_CACHE_HOME:-~/.cache}/asmnet-edge/aarch64-vm)
#   ASMNET_VM_PORT   loopback port forwarded to the VM's sshd (default 2222)
#   ASMNET_VM_SMP / ASMNET_VM_MEM   vCPUs (default 2) and MiB (default 2048)
#   ASMNET_VM_BOOT_TIMEOUT          seconds to wait for SSH (default 420)
#   ASMNET_VM_NICE                  niceness of the build and of qemu (default 10)
#   ASMNET_VM_MIRROR                Debian mirror (default http://deb.debian.org/debian)
# build needs root (debootstrap, chroot) and registers qemu-aarch64 in binfmt_misc if it is not.
set -euo pipefail

cache=${ASMNET_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/asmnet-edge/aarch64-vm}
port=${ASMNET_VM_PORT:-2222}
smp=${ASMNET_VM_SMP:-2}
mem=${ASMNET_VM_MEM:-2048}
boot_timeout=${ASMNET_VM_BOOT_TIMEOUT:-420}
niceness=${ASMNET_VM_NICE:-10}
mirror=${ASMNET_VM_MIRROR:-http://deb.debian.org/debian}
hostname=aarch64-qemu-a72
packages=systemd-sysv,udev,kmod,openssh-server,python3,python3-venv,linux-image-arm64,iproute2,netbase
rootfs=$cache/rootfs
base=$cache/base.img
disk=$cache/disk.qcow2
key=$cache/id_ed25519
pidfile=$cache/qemu.pid
log=$cache/console.log

die() { echo "aarch64_vm: $*" >&2; exit 1; }
note() { echo "aarch64_vm: $*" >&2; }

ssh_argv() {  # ssh options for the VM; the host key is pinned in the cache's known_hosts
    printf '%s\n' -o BatchMode=yes -o ConnectTimeout=5 -o StrictHostKeyChecking=yes \
        -o "UserKnownHostsFile=$cache/known_hosts" -o IdentitiesOnly=yes -o LogLevel=ERROR \
        -i "$key" -p "$(cat "$cache/port" 2>/dev/null || echo "$port")"
}

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

need() { command -v "$1" >/dev/null 2>&1 || die "$1 is missing: apt-get install -y $2"; }

register_binfmt() {
    [ -d /proc/sys/fs/binfmt_misc ] || die "no /proc/sys/fs/binfmt_misc: the kernel lacks binfmt_misc"
    [ -f /proc/sys/fs/binfmt_misc/register ] ||
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc ||
        die "cannot mount binfmt_misc (needs root / a privileged container)"
    [ -f /proc/sys/fs/binfmt_misc/qemu-aarch64 ] && return 0
    # F: the interpreter is opened now, so it works inside the chroot without a copy there
    sed 's/:[A-Z]*$/:F/; s#/usr/libexec/qemu-binfmt/aarch64-binfmt-P#/usr/bin/qemu-aarch64-static#' \
        /usr/lib/binfmt.d/qemu-aarch64.conf >/proc/sys/fs/binfmt_misc/register ||
        die "cannot register qemu-aarch64-static in binfmt_misc"
}

in_root() { nice -n "$niceness" chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }

configure_rootfs() {
    echo "$hostname" >"$rootfs/etc/hostname"
    printf '127.0.0.1 localhost\n127.0.1.1 %s\n' "$hostname" >"$rootfs/etc/hosts"
    echo "/dev/vda / ext4 defaults,noatime 0 1" >"$rootfs/etc/fstab"
    mkdir -p "$rootfs/etc/systemd/network"
    printf '[Match]\nName=en* eth*\n[Network]\nDHCP=ipv4\n' >"$rootfs/etc/systemd/network/10-user.network"
    in_root systemctl enable systemd-networkd >/dev/null 2>&1
    # TCG is slow: nothing periodic, no network-wait
    in_root systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer \
        man-db.timer dpkg-db-backup.timer systemd-networkd-wait-online.service >/dev/null 2>&1 || true
    printf 'PasswordAuthentication no\nKbdInteractiveAuthentication no\nUseDNS no\n' \
        >"$rootfs/etc/ssh/sshd_config.d/asmnet.conf"
    in_root id pi >/dev/null 2>&1 || in_root useradd -m -s /bin/bash pi
    for home in /home/pi /root; do
        mkdir -p "$rootfs$home/.ssh"
        cp "$key.pub" "$rootfs$home/.ssh/authorized_keys"
        chmod 700 "$rootfs$home/.ssh"
        chmod 600 "$rootfs$home/.ssh/authorized_keys"
    done
    in_root chown -R pi:pi /home/pi/.ssh
    rm -f "$rootfs/usr/sbin/policy-rc.d"
    in_root apt-get clean
}

small_initramfs() {
    # MODULES=most packs ~every driver and, run twice under qemu-user (kernel postinst, then the
    # trigger), was most of a 30-minute build: the VM needs virtio and ext4 only (all modules in Debian)
    mkdir -p "$rootfs/etc/initramfs-tools/conf.d" "$rootfs/etc/initramfs-tools/hooks"
    printf 'MODULES=list\nCOMPRESS=gzip\n' >"$rootfs/etc/initramfs-tools/conf.d/asmnet-vm.conf"
    cat >"$rootfs/etc/initramfs-tools/hooks/asmnet-vm" <<'HOOK'
#!/bin/sh
[ "$1" = prereqs ] && exit 0
. /usr/share/initramfs-tools/hook-functions
manual_add_modules virtio_mmio virtio_net virtio_rng crc32c_generic
for module in virtio_pci virtio_blk ext4; do
    force_load "$module"  # copied and loaded at boot, before the root is mounted
done
HOOK
    chmod 755 "$rootfs/etc/initramfs-tools/hooks/asmnet-vm"
}

cmd_build() {
    [ "$(id -u)" = 0 ] || die "build needs root (debootstrap and chroot)"
    if [ -f "$base" ] && [ -f "$cache/vmlinuz" ] && [ -f "$cache/initrd.img" ]; then
        note "already built in $cache (remove $base to rebuild)"
        return 0
    fi
    need debootstrap debootstrap
    need qemu-aarch64-static qemu-user-static
    need qemu-system-aarch64 qemu-system-arm
    need qemu-img qemu-utils
    need mkfs.ext4 e2fsprogs
    mkdir -p "$cache"
    local started
    started=$(date +%s)
    register_binfmt
    [ -f "$key" ] || ssh-keygen -q -t ed25519 -N "" -C asmnet-edge-aarch64-vm -f "$key"
    if [ ! -f "$rootfs/.second-stage-done" ]; then
        rm -rf "$rootfs"
        note "debootstrap first stage (downloads, $mirror) ..."
        nice -n "$niceness" debootstrap --arch arm64 --foreign --variant=minbase \
            --include="$packages" bookworm "$rootfs" "$mirror" >"$cache/build.log" 2>&1 ||
            die "debootstrap first stage failed: see $cache/build.log"
        # no daemon may start inside the build chroot (sshd on the host's port 22, say)
        printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
        chmod 755 "$rootfs/usr/sbin/policy-rc.d"
        small_initramfs
        note "debootstrap second stage under qemu-aarch64-static (slow) ..."
        nice -n "$niceness" chroot "$rootfs" /debootstrap/debootstrap --second-stage >>"$cache/build.log" 2>&1 ||
            die "debootstrap second stage failed: see $cache/build.log and $rootfs/debootstrap/debootstrap.log"
        touch "$rootfs/.second-stage-done"
    fi
    configure_rootfs
    cp "$(ls "$rootfs"/boot/vmlinuz-* | sort -V | tail -1)" "$cache/vmlinuz"
    cp "$(ls "$rootfs"/boot/initrd.img-* | sort -V | tail -1)" "$cache/initrd.img"
    cp "$rootfs/etc/ssh/ssh_host_ed25519_key.pub" "$cache/host_key.pub"
    note "disk image ..."
    rm -f "$base.tmp" "$disk"
    nice -n "$niceness" mkfs.ext4 -q -F -L rootfs -d "$rootfs" "$base.tmp" 4G >>"$cache/build.log" 2>&1 ||
        die "mkfs.ext4 -d failed: see $cache/build.log"
    mv "$base.tmp" "$base"
    echo "$(($(date +%s) - started))" >"$cache/build_seconds"
    note "built in $(cat "$cache/build_seconds") s: $base, $cache/vmlinuz, $cache/initrd.img"
}

port_free() {
    python3 -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try: s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError: sys.exit(1)' "$1"
}

cmd_start() {
    if running; then
        note "already running (pid $(cat "$pidfile")): $(target)"
        return 0
    fi
    [ -f "$base" ] || die "no VM image in $cache: run 'scripts/aarch64_vm.sh build' first"
    need qemu-system-aarch64 qemu-system-arm
    port_free "$port" || die "loopback port $port is taken: set ASMNET_VM_PORT to a free one"
    [ -f "$disk" ] || qemu-img create -q -f qcow2 -b "$base" -F raw "$disk"
    echo "$port" >"$cache/port"
    echo "[127.0.0.1]:$port $(cut -d' ' -f1-2 "$cache/host_key.pub")" >"$cache/known_hosts"
    local started
    started=$(date +%s)
    rm -f "$pidfile"
    nice -n "$niceness" qemu-system-aarch64 -M virt -cpu cortex-a72 -smp "$smp" -m "$mem" \
        -accel tcg,thread=multi -display none -daemonize -pidfile "$pidfile" \
        -kernel "$cache/vmlinuz" -initrd "$cache/initrd.img" \
        -append "root=/dev/vda rw console=ttyAMA0 quiet" \
        -drive "if=none,id=root,file=$disk,format=qcow2,cache=unsafe" -device virtio-blk-pci,drive=root \
        -netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$port-:22" -device virtio-net-pci,netdev=net0 \
        -device virtio-rng-pci -serial "file:$log" ||
        die "qemu-system-aarch64 did not start: see the message above and $log"
    local deadline=$((started + boot_timeout))
    mapfile -t opts < <(ssh_argv)
    until ssh "${opts[@]}" pi@127.0.0.1 true 2>/dev/null; do
        running || die "the VM exited while booting: see the serial console log $log"
        if [ "$(date +%s)" -ge "$deadline" ]; then
            die "no SSH answer from the VM within ${boot_timeout} s (still running, pid $(cat "$pidfile")):" \
                "see the serial console log $log; raise ASMNET_VM_BOOT_TIMEOUT on a loaded machine," \
                "or stop it ($0 stop)"
        fi
        sleep 3
    done
    echo "$(($(date +%s) - started))" >"$cache/boot_seconds"
    note "SSH ready after $(cat "$cache/boot_seconds") s (EMULATED aarch64, TCG): $(target)"
    target
}

target() {
    echo "--target ssh://pi@127.0.0.1:$(cat "$cache/port") --ssh-identity $key" \
        "--known-hosts $cache/known_hosts --strict-host-key-checking yes"
}

cmd_stop() {
    running || { note "not running"; rm -f "$pidfile"; return 0; }
    local pid
    pid=$(cat "$pidfile")
    mapfile -t opts < <(ssh_argv)
    if ssh "${opts[@]}" root@127.0.0.1 true >/dev/null 2>&1; then
        ssh "${opts[@]}" root@127.0.0.1 systemctl poweroff >/dev/null 2>&1 || true
        for _ in $(seq 1 60); do
            kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; note "stopped (clean poweroff)"; return 0; }
            sleep 2
        done
        note "no clean poweroff within 120 s: sending SIGTERM to qemu (pid $pid)"
    else
        note "no SSH to the VM (still booting, or hung): sending SIGTERM to qemu (pid $pid)"
    fi
    kill -TERM "$pid"
    for _ in $(seq 1 10); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    rm -f "$pidfile"
    note "stopped"
}

cmd_status() {
    if running; then
        echo "running (pid $(cat "$pidfile")), $(target)"
    else
        echo "stopped (cache $cache)"
        return 3
    fi
}

cmd_ssh() {
    running || die "the VM is not running: scripts/aarch64_vm.sh start"
    mapfile -t opts < <(ssh_argv)
    exec ssh "${opts[@]}" pi@127.0.0.1 "$@"
}

cmd_reset() {
    running && die "stop the VM first"
    rm -f "$disk"
    note "removed $disk; the next start begins from the built image"
}

case "${1:-}" in
build | start | stop | status | ssh | reset)
    action=$1
    shift
    "cmd_$action" "$@"
    ;;
*) die "usage: $0 build | start | stop | status | ssh [command...] | reset (cache: $cache)" ;;
esac
