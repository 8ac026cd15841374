#!/usr/bin/env bash
# A real one-node SLURM cluster on this host, for tests/test_slurm.py and for trying profiles/slurm locally.
#   tools/local_slurm.sh install  install slurm-wlm + munge (Debian apt, needs root; tools/system_deps.sh runs it)
#   tools/local_slurm.sh up     configure, start, wait idle (root; the packages must be installed)
#   tools/local_slurm.sh down   stop the daemons this script started
#   tools/local_slurm.sh status exit 0 when the node is up (idle or mixed/allocated)
# Accounting storage is disabled (no slurmdbd/MySQL), so sacct has nothing: the executor must be run with
# --slurm-status-command squeue. Partitions: "cpu" (the default) and "gpu", both on this one node (it has no
# GPU: "gpu" only lets a test see that the profile sends GPU rules to the GPU partition).
set -euo pipefail

STATE=/var/lib/xstilts-slurm        # our own state dir: never touches a site's /var/spool/slurm*
CONF_DIR=/etc/slurm
CONF="$CONF_DIR/slurm.conf"
MARK="# written by xstilts tools/local_slurm.sh"
CONF_CHANGED=0

die() { echo "local_slurm: $*" >&2; exit 1; }

need_root() { [ "$(id -u)" = 0 ] || die "must run as root (installs packages and starts daemons)"; }

install_pkgs() {
    need_root
    if have_pkgs; then
        return
    fi
    command -v apt-get >/dev/null || die "apt-get not found: install slurm-wlm and munge by hand"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || die "apt-get update failed"
    # --no-install-recommends: no slurmdbd/MySQL pulled in; accounting stays off
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null || die "apt-get install slurm-wlm munge failed"
}

write_conf() {
    # Refuse to overwrite a slurm.conf that someone else wrote (a real site's cluster).
    if [ -f "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
        die "$CONF exists and was not written by this script; refusing to overwrite it"
    fi
    local host cpus mem_mb
    host="$(hostname -s)"
    cpus="$(nproc --all)"
    # RealMemory a little below the physical total: slurmd drains a node that reports less than configured
    mem_mb=$(( $(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo) * 9 / 10 ))
    mkdir -p "$CONF_DIR" "$STATE"/{ctld,d} /var/log/slurm
    local tmp="$CONF.tmp.$$" old=""
    [ -f "$CONF" ] && old="$(cat "$CONF")"
    cat > "$tmp" <<CONF
$MARK
ClusterName=xstilts-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=/var/log/slurm/xstilts-slurmctld.log
SlurmdLogFile=/var/log/slurm/xstilts-slurmd.log
# containers/CI have no systemd cgroup delegation: track and launch processes without cgroups
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# consumable cores and memory, so several small jobs share the node (like a real cluster)
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
# a finished job stays visible to squeue (and scontrol) for an hour: the executor's squeue status checks
# see every job end, and tests/test_slurm.py can still read partition, time limit and state after a long run
MinJobAge=3600
NodeName=$host CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=cpu Nodes=$host Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$host Default=NO MaxTime=INFINITE State=UP
CONF
    if [ "$(cat "$tmp")" != "$old" ]; then CONF_CHANGED=1; fi
    mv "$tmp" "$CONF"
    # slurmd 22.05 (Debian 12) initialises a cgroup plugin even with proctrack/linuxproc and knows no
    # "disabled" (that came in 23.x); autodetect + IgnoreSystemd works in containers without systemd
    local cg="$CONF_DIR/cgroup.conf"
    if [ ! -f "$cg" ] || grep -qF "$MARK" "$cg" || grep -qx "CgroupPlugin=disabled" "$cg"; then
        printf '%s\nCgroupPlugin=autodetect\nIgnoreSystemd=yes\n' "$MARK" > "$cg.tmp.$$" && mv "$cg.tmp.$$" "$cg"
    fi
}

start_munge() {
    if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then return; fi
    mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
    if [ ! -s /etc/munge/munge.key ]; then
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    fi
    chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge 2>/dev/null || true
    chmod 0700 /etc/munge; chmod 0400 /etc/munge/munge.key
    # munged refuses to run as root unless forced; the Debian package runs it as user munge
    if id munge >/dev/null 2>&1; then
        runuser -u munge -- /usr/sbin/munged
    else
        /usr/sbin/munged --force
    fi
    for _ in $(seq 50); do
        munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && return
        sleep 0.2
    done
    die "munged did not come up"
}

node_state() { sinfo -h -N -o '%t' 2>/dev/null | head -1; }

have_pkgs() { command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; }

up() {
    need_root
    have_pkgs || die "slurm-wlm and munge are not installed: run tools/local_slurm.sh install (or tools/system_deps.sh)"
    write_conf
    start_munge
    if ! scontrol ping 2>/dev/null | grep -q UP; then
        slurmctld -c 2>/dev/null || slurmctld   # -c: clean start, no stale jobs from an earlier session
    elif [ "$CONF_CHANGED" = 1 ]; then
        scontrol reconfigure   # running daemons re-read slurm.conf written by an older version of this script
    fi
    [ -f "$STATE/slurmd.pid" ] && kill -0 "$(cat "$STATE/slurmd.pid")" 2>/dev/null || slurmd
    local st=""
    for _ in $(seq 120); do
        st="$(node_state)"
        case "$st" in
            idle|mix|alloc) echo "local_slurm: node $(hostname -s) $st, partitions cpu gpu"; return 0 ;;
            down*|drain*|inval*) scontrol update NodeName="$(hostname -s)" State=RESUME >/dev/null 2>&1 || true ;;
        esac
        sleep 0.5
    done
    die "node not idle after 60 s (state: '${st:-none}'); see /var/log/slurm/xstilts-slurm*.log"
}

stop_pidfile() {
    local f="$1"
    [ -f "$f" ] || return 0
    local pid; pid="$(cat "$f")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || { rm -f "$f"; return 0; }; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$f"
}

down() {
    need_root
    [ -f "$CONF" ] && grep -qF "$MARK" "$CONF" || die "no cluster of this script is configured ($CONF)"
    stop_pidfile "$STATE/slurmd.pid"
    stop_pidfile "$STATE/slurmctld.pid"
    # munged is left running: harmless, and other users of munge on this host keep working
    echo "local_slurm: stopped"
}

status() {
    case "$(node_state)" in idle|mix|alloc) exit 0 ;; *) exit 1 ;; esac
}

case "${1:-}" in
    install) install_pkgs ;;
    up) up ;;
    down) down ;;
    status) status ;;
    *) echo "usage: $0 install|up|down|status" >&2; exit 2 ;;
esac
