#!/usr/bin/env bash
# Builds the kernel + initramfs of the test VM (tests/vm/README.md) from Debian's 6.1 kernel
# package, once: later calls reuse /var/cache/xdplb-vm/<kernel>/ while its stamp matches this
# script, init.sh and the package. Prints that directory (kernel, initrd.cpio) on stdout.
# XDPLB_VM_KERNEL=6.1.0-<N>-amd64 picks a kernel; otherwise a valid cached build is reused,
# or the newest 6.1.0-*-amd64 image apt knows is built.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${XDPLB_VM_CACHE:-/var/cache/xdplb-vm}
export PATH="$PATH:/usr/sbin:/sbin"

# Loaded in this order at boot (with what modprobe --show-depends adds; there is no modprobe
# inside), missing or built-in ones skipped: IPVS and every scheduler; links and tunnels;
# nftables, iptables and ipset as kube-proxy uses them; tc BPF; ss; the shares and the output.
MODULES=(ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_lblc ip_vs_lblcr ip_vs_sh ip_vs_dh
         ip_vs_sed ip_vs_nq ip_vs_mh ip_vs_fo ip_vs_ovf
         veth dummy 8021q ipip ip6_tunnel tunnel4 tunnel6 sctp
         nf_conntrack nf_nat nfnetlink nf_tables nft_masq nft_nat nft_chain_nat nft_ct nft_compat
         nft_reject nft_reject_inet nf_reject_ipv4 nf_reject_ipv6 ip6_tables ip6table_filter ip6table_nat
         iptable_mangle ip6table_mangle
         nf_conntrack_netlink ip_tables iptable_filter iptable_nat xt_MASQUERADE xt_conntrack
         xt_addrtype xt_comment xt_mark xt_ipvs ip_set ip_set_hash_ip ip_set_hash_ipport
         ip_set_hash_ipportip ip_set_hash_ipportnet ip_set_hash_net ip_set_bitmap_port xt_set
         sch_ingress cls_bpf act_bpf inet_diag tcp_diag udp_diag
         virtio_pci virtio_console 9pnet_virtio 9p overlay)
declare -A PARAMS=([dummy]="numdummies=0")

log() { echo "vm-build: $*" >&2; }
for t in dpkg-deb depmod modprobe cpio xz busybox; do
    command -v "$t" >/dev/null || { log "$t is missing: run scripts/setup.sh"; exit 1; }
done

stamp_of() { # stamp_of VERSION PKGVERSION
    printf '%s %s %s\n' "$1" "$2" "$(cat "$here/build.sh" "$here/init.sh" | sha256sum | cut -d' ' -f1)"
}
valid() { # valid DIR: a finished build whose stamp matches these scripts
    local d=$1 f v
    for f in stamp kernel initrd.cpio; do [ -f "$d/$f" ] || return 1; done
    v=$(basename "$d")
    [ "$(cat "$d/stamp")" = "$(stamp_of "$v" "$(cut -d' ' -f2 "$d/stamp")")" ]
}

# Drops a module's appended signature: the kernel does not require one, and hashing ~8 MB of
# modules in emulated code at every boot is slow. Trailer: sig, 12-byte struct, 28-byte magic.
strip_sig() {
    local f=$1 size len
    [ "$(tail -c 28 "$f")" = "~Module signature appended~" ] || return 0
    size=$(stat -c %s "$f")
    len=$(od -An -tu1 -j $((size - 32)) -N 4 "$f" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
    truncate -s $((size - 40 - len)) "$f"
}

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

kver=${XDPLB_VM_KERNEL:-}
if [ -z "$kver" ]; then
    while read -r d; do
        if valid "$cache/$d"; then echo "$cache/$d"; exit 0; fi
    done < <(find "$cache" -mindepth 1 -maxdepth 1 -type d -name '6.1.0-*' -printf '%f\n' | sort -rV)
    newest() { apt-cache pkgnames linux-image-6.1.0- | { grep -E '^linux-image-6\.1\.0-[0-9]+-amd64$' || true; } | sort -V | tail -1; }
    pkg=$(newest)
    [ -n "$pkg" ] || { log "apt knows no linux-image-6.1.0-*-amd64: apt-get update"; apt-get update -qq; pkg=$(newest); }
    [ -n "$pkg" ] || { log "no linux-image-6.1.0-*-amd64 package found"; exit 1; }
    kver=${pkg#linux-image-}
elif valid "$cache/$kver"; then
    echo "$cache/$kver"; exit 0
fi
pkg=linux-image-$kver

log "building $kver (once; cached in $cache/$kver)"
work=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -q "$pkg" >/dev/null 2>&1) \
    || { apt-get update -qq && (cd "$work" && apt-get download -q "$pkg" >/dev/null); }
debs=("$work"/*.deb)
deb=${debs[0]}
pkgver=$(dpkg-deb -f "$deb" Version)
dpkg-deb -x "$deb" "$work/k"
rm -f "$deb"
depmod -b "$work/k" "$kver"

mkdir -p "$work/initrd/bin" "$work/initrd/lib/modules"
declare -A seen=()
: >"$work/initrd/modules.list"
for m in "${MODULES[@]}"; do
    if ! deps=$(modprobe -C /dev/null -d "$work/k" -S "$kver" --show-depends "$m" 2>/dev/null); then
        log "module $m: not in $kver, skipped"; continue
    fi
    while read -r what path _; do
        [ "$what" = insmod ] || continue # "builtin NAME": nothing to load
        name=$(basename "$path"); name=${name%%.ko*}
        [ -z "${seen[$name]:-}" ] || continue
        seen[$name]=1
        case $path in
            *.ko.xz) xz -dc "$path" ;;
            *.ko.zst) zstd -dc "$path" ;;
            *.ko.gz) gzip -dc "$path" ;;
            *) cat "$path" ;;
        esac >"$work/initrd/lib/modules/$name.ko"
        strip_sig "$work/initrd/lib/modules/$name.ko"
        echo "$name.ko ${PARAMS[${name//-/_}]:-}" >>"$work/initrd/modules.list"
    done <<<"$deps"
done

cp "$(command -v busybox)" "$work/initrd/bin/busybox"
install -m 0755 "$here/init.sh" "$work/initrd/init"
# Both stay uncompressed: under TCG, unpacking the xz bzImage alone takes about 5 s. Booted
# with its PVH entry (qemu loads the ELF vmlinux directly); the bzImage if extraction fails.
(cd "$work/initrd" && find . -print0 | cpio --null -o -H newc --quiet) >"$work/initrd.cpio"
bz=$work/k/boot/vmlinuz-$kver
off=$(LC_ALL=C grep -m1 -obUaP '\xfd7zXZ\x00' "$bz" | cut -d: -f1 | sed -n 1p || true)
if ! { [ -n "$off" ] && xz -dc --single-stream >"$work/kernel" 2>/dev/null < <(tail -c +$((off + 1)) "$bz") &&
       [ "$(head -c 4 "$work/kernel" | od -An -c | tr -d ' ')" = 177ELF ]; }; then
    log "no xz vmlinux in the bzImage: booting the bzImage (slower)"
    cp "$bz" "$work/kernel"
fi

# Each file is replaced by a rename, so a VM starting meanwhile reads whole files.
out=$cache/$kver
mkdir -p "$out"
cut -d' ' -f1 "$work/initrd/modules.list" | sed 's/\.ko$//' >"$work/modules.txt"
stamp_of "$kver" "$pkgver" >"$work/stamp"
for f in kernel initrd.cpio modules.txt stamp; do mv -f "$work/$f" "$out/$f"; done
log "built $kver ($pkgver): $(wc -l <"$out/modules.txt") modules"
echo "$out"
