#!/usr/bin/env bash
# Usage: tests/vm/run.sh [--timeout SECONDS] [--rw DIR]... -- COMMAND [ARGS...]
# Runs COMMAND as root in a qemu VM (Debian 6.1 kernel with IPVS, tunnels, veth, dummy, sctp,
# nftables) whose root is this machine's / (read-only, under a throw-away tmpfs overlay), in
# the current directory. Prints its output live and exits with its status; 124 if the timeout
# (default 600 s) killed the VM, 125 if the VM stopped without the command's status.
# --rw DIR: the host's DIR is writable inside (results). The VM has no network device.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage() { sed -n '2,7s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2; }
timeout=600
rw=()
while [ $# -gt 0 ]; do
    case $1 in
        --timeout) [ $# -ge 2 ] || usage; timeout=$2; shift 2 ;;
        --rw) [ $# -ge 2 ] || usage
              [ -d "$2" ] || { echo "run.sh: --rw $2: not a directory" >&2; exit 2; }
              rw+=("$(realpath "$2")"); shift 2 ;;
        --) shift; break ;;
        *) usage ;;
    esac
done
[ $# -gt 0 ] || usage
[[ $timeout =~ ^[0-9]+$ ]] || usage

dir=$("$here/build.sh")
tmp=$(mktemp -d /tmp/xdplb-vm.XXXXXX)
qpid= cpid=
cleanup() {
    [ -z "$qpid" ] || kill "$qpid" 2>/dev/null || true
    [ -z "$cpid" ] || kill "$cpid" 2>/dev/null || true
    [ ! -s "$tmp/qemu.pid" ] || kill "$(cat "$tmp/qemu.pid")" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir "$tmp/out"

path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
if dotnet=$(command -v dotnet); then path="$(dirname "$(readlink -f "$dotnet")"):$path"; fi
{   # The host's DOTNET_*, NUGET_*, XDPLB_* and CI pass through; the rest is fixed.
    for name in $(compgen -e | grep -E '^(DOTNET_|NUGET_|XDPLB_|CI$)' || true); do
        printf 'export %s=%q\n' "$name" "${!name}"
    done
    printf 'export HOME=/root PATH=%q TERM=dumb LANG=C.UTF-8 XDPLB_VM=1\n' "$path"
    echo 'export DOTNET_CLI_HOME=/tmp/dotnet-home DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1'
    printf 'cd -- %q || exit 125\n' "$PWD"
    printf 'exec'; printf ' %q' "$@"; echo
} >"$tmp/out/cmd.sh"

shares=()
for i in "${!rw[@]}"; do
    echo "rw$i ${rw[$i]}" >>"$tmp/out/shares"
    shares+=(-virtfs "local,path=${rw[$i]//,/,,},mount_tag=rw$i,security_model=none")
done

# The command's output comes through a virtio port (fast; the serial console is ~130 KB/s under
# TCG), relayed from a fifo. The serial console (kernel, init) goes to a log shown on failure.
mkfifo "$tmp/output"
: >"$tmp/console.log"
cat "$tmp/output" &
cpid=$!
timeout -k 5 "$timeout" qemu-system-x86_64 -nodefaults -no-user-config -machine pc -accel tcg \
    -cpu max -m 2048 -smp 2 -display none -vga none -nic none -monitor none -no-reboot \
    -pidfile "$tmp/qemu.pid" -serial "file:$tmp/console.log" \
    -device virtio-serial-pci -chardev "file,id=output,path=$tmp/output" \
    -device virtserialport,chardev=output,name=xdplb.out \
    -kernel "$dir/kernel" -initrd "$dir/initrd.cpio" -append "console=ttyS0 loglevel=4 panic=-1" \
    -virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
    -virtfs "local,path=$tmp/out,mount_tag=out,security_model=none" "${shares[@]}" \
    </dev/null 2>"$tmp/qemu.err" &
qpid=$!
rc=0
wait "$qpid" || rc=$?
qpid=
exec 3<>"$tmp/output" 3>&- # lets cat finish even if qemu never opened the fifo
wait "$cpid" || true
cpid=
grep -a '^vm-init:' "$tmp/console.log" | tr -d '\r' >&2 || true

if [ -s "$tmp/out/status" ]; then
    exit "$(cat "$tmp/out/status")"
fi
{ echo "vm: the console's last lines:"; tail -n 40 "$tmp/console.log"; cat "$tmp/qemu.err"; } >&2
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "vm: timed out after ${timeout}s: the VM was killed" >&2
    exit 124
fi
echo "vm: the VM stopped without the command's exit status (qemu exit $rc)" >&2
exit 125
