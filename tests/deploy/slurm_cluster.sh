# shellcheck shell=bash
# A single-node Slurm cluster on this machine for a test (`source` it): munged, slurmctld and slurmd
# from Debian's slurm-wlm and munge, every file under one temporary directory, loopback only, as
# root. What makes slurmd run in a container without systemd or a writable cgroup tree:
# ProctrackType=proctrack/linuxproc (processes tracked by parent pid, no cgroup),
# TaskPlugin=task/none (no cpuset or affinity), JobAcctGatherType=jobacct_gather/none; munged on a
# socket of its own (AuthInfo=socket=...), so a machine's own munge, if any, is neither needed nor
# touched. docs/scale-out.md, "Trying it on one machine".
#
# slurm_start DIR CPUS  starts the daemons under DIR (SLURM_CONF exported for sbatch and squeue),
#                       returns once the node is idle; nonzero (and the logs shown) if it cannot
# slurm_stop            stops them (a trap calls it; safe to call twice)
# slurm_wait_job ID SECONDS  waits until job ID (and, for an array, all its tasks) has ended
slurm_pids=()

slurm_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

slurm_start() {
  local dir=$1 cpus=$2
  mkdir -p "$dir"/{state,spool,log,munge}
  chmod 700 "$dir/munge"
  # munged wants its key private and its directories not writable by others.
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$dir/munge/munge.key"
  munged --force --socket="$dir/munge/munge.sock" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" \
    --seed-file="$dir/munge/munge.seed" || { cat "$dir/log/munged.log"; return 1; }
  slurm_pids+=("$(cat "$dir/munge/munged.pid")")
  local ctld_port slurmd_port
  ctld_port=$(slurm_free_port)
  slurmd_port=$(slurm_free_port)
  cat >"$dir/slurm.conf" <<CONF
ClusterName=seertest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
MinJobAge=300
NodeName=seernode NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=seer Nodes=seernode Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$dir/slurm.conf
  slurmctld -D -i -f "$SLURM_CONF" >"$dir/log/slurmctld.out" 2>&1 &
  slurm_pids+=($!)
  slurmd -D -f "$SLURM_CONF" -N seernode >"$dir/log/slurmd.out" 2>&1 &
  slurm_pids+=($!)
  local state=""
  for _ in $(seq 1 150); do
    state=$(sinfo -h -n seernode -o %T 2>/dev/null)
    [ "$state" = idle ] && return 0
    sleep 0.2
  done
  echo "slurm did not come up (node state '$state'):"
  tail -n 20 "$dir"/log/*
  return 1
}

slurm_stop() {
  local pid
  for pid in "${slurm_pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${slurm_pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  slurm_pids=()
}

slurm_wait_job() {
  local id=$1 seconds=$2
  local deadline=$((SECONDS + seconds))
  while [ $SECONDS -lt $deadline ]; do
    [ -z "$(squeue -h -j "$id" -o %i 2>/dev/null)" ] && return 0
    sleep 0.5
  done
  echo "job $id still queued or running after ${seconds}s:"
  squeue
  return 1
}
