#!/usr/bin/env bash
# A single-node Slurm on this machine (slurmctld + slurmd on localhost, munge for auth), for
# trying `mnistnet sweep --emit slurm` without a cluster. Needs root and Debian's slurm-wlm.
#
#   scripts/slurm_local.sh install   # apt-get install slurm-wlm munge (when missing)
#   scripts/slurm_local.sh start     # write the config, start munged, slurmctld, slurmd; wait until the node is idle
#   scripts/slurm_local.sh env       # prints `export SLURM_CONF=...` (eval it to use sbatch, squeue, sinfo)
#   scripts/slurm_local.sh status    # sinfo of the local cluster
#   scripts/slurm_local.sh stop      # stop the daemons this script started
#
# Everything lives in $MNISTNET_SLURM_DIR (default /tmp/mnistnet-slurm): slurm.conf, the munge
# key and socket, the daemons' state, logs and pid files. Nothing under /etc is changed.
# Exit codes: 0 ok; 77 Slurm cannot run here (not installed, not root, a daemon would not
# start): the message says which, and tests skip on it; 1 anything else.
set -euo pipefail

state=${MNISTNET_SLURM_DIR:-/tmp/mnistnet-slurm}
conf=$state/slurm.conf
node=$(hostname -s)

say() { printf 'slurm_local: %s\n' "$*" >&2; }
cannot() { say "cannot run Slurm here: $*"; exit 77; }

require_tools() {
  local tool
  for tool in munged slurmctld slurmd sbatch sinfo scontrol; do
    command -v "$tool" >/dev/null 2>&1 ||
      cannot "$tool not found; install Debian's slurm-wlm and munge ($0 install)"
  done
  [[ $(id -u) -eq 0 ]] || cannot "the daemons must start as root (running as $(id -un))"
}

write_config() {
  mkdir -p "$state"/{ctld,spool,log,munge}
  chmod 700 "$state/munge"
  if [[ ! -s $state/munge/munge.key ]]; then
    dd if=/dev/urandom of="$state/munge/munge.key" bs=1024 count=1 status=none
  fi
  chmod 600 "$state/munge/munge.key"
  local cpus
  cpus=$(nproc)
  cat >"$conf" <<EOF
# Written by scripts/slurm_local.sh: one node, this machine.
ClusterName=mnistnet-local
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$state/munge/munge.socket
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
}

running() {  # pid file -> is that process alive?
  [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

start() {
  require_tools
  write_config
  export SLURM_CONF=$conf
  if ! running "$state/munged.pid"; then
    munged --force --socket="$state/munge/munge.socket" --key-file="$state/munge/munge.key" \
      --pid-file="$state/munged.pid" --log-file="$state/log/munged.log" \
      --seed-file="$state/munge/munge.seed" ||
      cannot "munged would not start (see $state/log/munged.log)"
  fi
  if ! running "$state/slurmctld.pid"; then
    slurmctld -f "$conf" || cannot "slurmctld would not start (see $state/log/slurmctld.log)"
  fi
  if ! running "$state/slurmd.pid"; then
    slurmd -f "$conf" || cannot "slurmd would not start (see $state/log/slurmd.log)"
  fi
  local i
  for ((i = 0; i < 60; ++i)); do
    if sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
      say "up: node $node, $(nproc) CPUs; export SLURM_CONF=$conf"
      return 0
    fi
    sleep 1
  done
  say "the node did not become idle in 60 s; sinfo says: $(sinfo -h -N -o '%T %E' 2>&1 | head -1)"
  cannot "see $state/log/slurmctld.log and $state/log/slurmd.log"
}

stop_daemon() {  # name pidfile
  if running "$2"; then
    local pid
    pid=$(cat "$2")
    kill "$pid"
    local i
    for ((i = 0; i < 50; ++i)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$2"
}

stop() {
  stop_daemon slurmd "$state/slurmd.pid"
  stop_daemon slurmctld "$state/slurmctld.pid"
  stop_daemon munged "$state/munged.pid"
  say "stopped"
}

case ${1:-} in
  install)
    command -v slurmctld >/dev/null 2>&1 && command -v munged >/dev/null 2>&1 && exit 0
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
    ;;
  start) start ;;
  stop) stop ;;
  env) printf 'export SLURM_CONF=%q\n' "$conf" ;;
  status) SLURM_CONF=$conf sinfo ;;
  *)
    printf 'usage: %s install|start|stop|env|status\n' "$0" >&2
    exit 1
    ;;
esac
