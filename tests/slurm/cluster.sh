#!/usr/bin/env bash
# A throw-away single-node SLURM cluster for tests/slurm (and for trying profiles/slurm by hand).
#
#   tests/slurm/cluster.sh install  apt-get install slurm-wlm + munge (root; the only step that
#                                   changes the system; the tests call it only with CI=true or
#                                   RMTW_INSTALL_SYSTEM_PACKAGES=1)
#   tests/slurm/cluster.sh start    write the config, start munged, slurmctld and slurmd, wait
#                                   until the node is idle (fails, saying so, if not installed)
#   tests/slurm/cluster.sh stop     cancel our jobs, stop the daemons by pid file
#   tests/slurm/cluster.sh status   daemons, node state, queue; exit 0 only if the cluster answers
#   tests/slurm/cluster.sh env      print the exports of SLURM_CONF and PATH (eval it before
#                                   sbatch/squeue/snakemake)
#
# Everything lives in $RMTW_SLURM_DIR (default /tmp/rmtw-slurm): etc/ (slurm.conf, gres.conf),
# munge/ (key, socket), state/, spool/, log/, run/ (pid files), dev/ (the fake GPU), bin/ (srun).
# Nothing outside it is written (no /etc, no /dev): every daemon and client reads etc/slurm.conf
# through SLURM_CONF or -f. Needs root (daemons as SlurmUser=root, mknod); no systemd. The node
# is this machine (`slurmd -C`), in two partitions, `main` (default) and `gpu`, with one fake GPU:
# gres `gpu:fake:1` backed by a character device made with mknod in dev/, so `sbatch --gpus=1`
# (and `--gpus=fake:1`) schedule and run, one GPU job at a time.
#
# srun inside jobs: the slurm-jobstep executor (snakemake_executor_plugin_slurm_jobstep) removes
# every SLURM_*, SRUN_* and SBATCH_* variable except the job's identity, SLURM_CONF included,
# before it calls `srun` through the shell; srun would then read /etc/slurm/slurm.conf. PATH is
# kept, so bin/srun, a wrapper that sets SLURM_CONF and execs the real srun, goes first on the
# PATH of whoever submits (`env` prints it; sbatch --export=ALL hands it to the jobs).
#
# No accounting (no slurmdbd): sacct cannot see jobs, so clients must use `squeue` for status
# (`--slurm-status-command squeue`); MinJobAge=300 keeps finished jobs visible to squeue and
# `scontrol show job` for 5 minutes, at least 3x the plugin's first status interval (40 s default).
set -euo pipefail

BASE=${RMTW_SLURM_DIR:-/tmp/rmtw-slurm}
CTLD_PORT=${RMTW_SLURM_CTLD_PORT:-16817}
SLURMD_PORT=${RMTW_SLURM_SLURMD_PORT:-16818}
# task/affinity needs sched_setaffinity; under gVisor it works, elsewhere task/none is the fallback.
TASK_PLUGIN=${RMTW_SLURM_TASK_PLUGIN:-task/affinity}
START_TIMEOUT=${RMTW_SLURM_START_TIMEOUT:-60}
CONF=$BASE/etc/slurm.conf
FAKE_GPU=$BASE/dev/gpu0  # slurm takes the GPU's index from the trailing digits
WRAPPERS=$BASE/bin
NODE=$(hostname -s)

export SLURM_CONF=$CONF

log() { echo "cluster.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# pid_alive PIDFILE NAME: the pid file names a live process whose command line contains NAME
# (guards against a stale pid file whose number was reused by an unrelated process).
pid_alive() {
    local pidfile=$1 name=$2 pid
    [[ -s $pidfile ]] || return 1
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$name"
}

# stop_pid PIDFILE NAME: TERM, wait up to 10 s, then KILL; the pid file is removed either way.
stop_pid() {
    local pidfile=$1 name=$2 pid i
    if pid_alive "$pidfile" "$name"; then
        pid=$(<"$pidfile")
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 1 50); do
            pid_alive "$pidfile" "$name" || break
            sleep 0.2
        done
        if pid_alive "$pidfile" "$name"; then
            log "$name ($pid) ignored SIGTERM, sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$pidfile"
}

installed() {
    local tool
    for tool in slurmctld slurmd sbatch srun squeue scontrol munged; do
        command -v "$tool" >/dev/null || return 1
    done
}

install_packages() {
    installed && return 0
    [[ $(id -u) -eq 0 ]] || die "slurm-wlm/munge are missing and installing them needs root"
    command -v apt-get >/dev/null || die "slurm-wlm/munge are missing and apt-get is not available"
    mkdir -p "$BASE/log"
    log "installing slurm-wlm and munge (apt-get)"
    # The dpkg lock may be held by a parallel apt-get for a while: wait for it, not fail.
    local i
    for i in $(seq 1 30); do
        if DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 update -qq \
            && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y -qq \
                slurm-wlm munge >"$BASE/log/apt-get.log" 2>&1; then
            return 0
        fi
        log "apt-get failed (attempt $i), see $BASE/log/apt-get.log; retrying in 10 s"
        sleep 10
    done
    die "could not install slurm-wlm and munge"
}

# Node hardware as slurmd sees it: "CPUs RealMemory".
node_hardware() {
    local line cpus mem
    line=$(slurmd -C | head -n1)
    cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$line")
    mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$line")
    [[ -n $cpus && -n $mem ]] || die "cannot parse 'slurmd -C': $line"
    echo "$cpus $mem"
}

write_config() {
    local cpus mem
    read -r cpus mem < <(node_hardware)
    # Leave 5 % of the memory to the system; the node drains if RealMemory exceeds what slurmd finds.
    mem=$((mem * 95 / 100))
    cat >"$CONF" <<EOF
# Written by tests/slurm/cluster.sh; regenerated on every start.
ClusterName=rmtw
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$BASE/munge/munge.socket
StateSaveLocation=$BASE/state
SlurmdSpoolDir=$BASE/spool/%n
SlurmctldPidFile=$BASE/run/slurmctld.pid
SlurmdPidFile=$BASE/run/slurmd.pid
SlurmctldLogFile=$BASE/log/slurmctld.log
SlurmdLogFile=$BASE/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups in this container: track job processes through /proc.
ProctrackType=proctrack/linuxproc
TaskPlugin=$TASK_PLUGIN
MpiDefault=none
# Jobs share the node by cores and memory; a job without --mem gets DefMemPerCPU per CPU.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
SchedulerType=sched/backfill
# Finished jobs stay visible to squeue/scontrol for 300 s: >= 3x the plugin's first status
# interval (init_seconds_before_status_checks, 40 s by default), as the squeue status needs.
MinJobAge=300
# No slurmdbd: sacct sees no jobs; clients use squeue for status.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# Fast cancellation (scancel sends SIGTERM, then SIGKILL after KillWait seconds).
KillWait=5
InactiveLimit=0
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=60
GresTypes=gpu
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem Gres=gpu:fake:1 State=UNKNOWN
PartitionName=main Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$NODE Default=NO MaxTime=INFINITE State=UP
EOF
    cat >"$BASE/etc/gres.conf" <<EOF
# A fake GPU: slurm only needs a device file to hand out (it sets CUDA_VISIBLE_DEVICES).
AutoDetect=off
NodeName=$NODE Name=gpu Type=fake File=$FAKE_GPU
EOF
}

start_munge() {
    local d=$BASE/munge
    if pid_alive "$d/munged.pid" munged; then
        return 0
    fi
    rm -f "$d/munged.pid" "$d/munge.socket" "$d/munge.socket.lock"
    id munge >/dev/null 2>&1 || die "user 'munge' does not exist (is the munge package installed?)"
    mkdir -p "$d"
    if [[ ! -s $d/munge.key ]]; then
        dd if=/dev/urandom of="$d/munge.key" bs=1024 count=1 status=none
    fi
    chown -R munge:munge "$d"
    chmod 0711 "$d"  # munged: clients need execute permission on the socket directory
    chmod 0400 "$d/munge.key"
    runuser -u munge -- munged \
        --key-file="$d/munge.key" --socket="$d/munge.socket" --pid-file="$d/munged.pid" \
        --log-file="$d/munged.log" --seed-file="$d/munged.seed" \
        || die "munged failed to start; see $d/munged.log"
    local i
    for i in $(seq 1 50); do
        [[ -S $d/munge.socket ]] && return 0
        sleep 0.2
    done
    die "munged socket did not appear; see $d/munged.log"
}

# The real srun: the first on PATH that is not our wrapper (PATH may already start with $WRAPPERS).
real_srun() {
    local dir
    local IFS=:
    for dir in $PATH; do
        [[ -n $dir && $dir != "$WRAPPERS" && -x $dir/srun && ! -d $dir/srun ]] || continue
        echo "$dir/srun"
        return 0
    done
    return 1
}

# bin/srun: srun with our SLURM_CONF, for jobs whose SLURM_CONF the jobstep executor removed.
write_srun_wrapper() {
    local srun tmp
    srun=$(real_srun) || die "srun not found on PATH"
    mkdir -p "$WRAPPERS"
    tmp=$(mktemp "$WRAPPERS/srun.XXXXXX")
    cat >"$tmp" <<EOF
#!/usr/bin/env bash
# Written by tests/slurm/cluster.sh: srun of the test cluster. The slurm-jobstep executor strips
# SLURM_CONF (with every SLURM_* variable) before calling srun inside a job; put it back.
export SLURM_CONF=$(printf %q "$CONF")
exec $(printf %q "$srun") "\$@"
EOF
    chmod 755 "$tmp"
    mv -f "$tmp" "$WRAPPERS/srun"
}

cluster_answers() {
    timeout 10 sinfo -h >/dev/null 2>&1
}

node_state() {
    timeout 10 sinfo -h -n "$NODE" -o %T 2>/dev/null | head -n1
}

wait_for_idle() {
    local deadline=$((SECONDS + START_TIMEOUT)) state resumed=0
    while ((SECONDS < deadline)); do
        state=$(node_state || true)
        case $state in
            idle | mixed | allocated) return 0 ;;
            *drain* | down* | *fail*)
                # a previous run's state, or ReturnToService not yet applied: try once
                if ((resumed == 0)); then
                    timeout 10 scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true
                    resumed=1
                fi
                ;;
        esac
        sleep 1
    done
    log "node $NODE did not become idle within ${START_TIMEOUT} s (state: '${state:-no answer}')"
    timeout 10 sinfo -R >&2 || true
    tail -n 20 "$BASE/log/slurmctld.log" "$BASE/log/slurmd.log" >&2 || true
    return 1
}

cmd_start() {
    [[ $(id -u) -eq 0 ]] || die "must run as root (daemons, mknod)"
    installed || die "slurm-wlm/munge are not installed: run '$0 install' (root, apt-get) first"
    mkdir -p "$BASE"/{etc,state,spool,log,run,dev}
    write_srun_wrapper
    if pid_alive "$BASE/run/slurmctld.pid" slurmctld && pid_alive "$BASE/run/slurmd.pid" slurmd \
        && pid_alive "$BASE/munge/munged.pid" munged && cluster_answers; then
        wait_for_idle || die "cluster is running but its node is not usable"
        log "already running ($CONF)"
        return 0
    fi
    # Partial or stale: stop whatever is left and start from a clean state.
    cmd_stop >/dev/null 2>&1 || true
    mkdir -p "$BASE"/{etc,state,spool,log,run,dev}
    rm -rf "$BASE/state" "$BASE/spool"
    mkdir -p "$BASE/state" "$BASE/spool"
    if [[ ! -c $FAKE_GPU ]]; then
        rm -f "$FAKE_GPU"
        mknod "$FAKE_GPU" c 195 0 || die "mknod $FAKE_GPU failed"
    fi
    write_config
    start_munge
    slurmctld -f "$CONF" || die "slurmctld failed to start; see $BASE/log/slurmctld.log"
    slurmd -f "$CONF" -N "$NODE" || die "slurmd failed to start; see $BASE/log/slurmd.log"
    if ! wait_for_idle; then
        cmd_stop >/dev/null 2>&1 || true
        die "cluster did not come up"
    fi
    log "running: node $NODE idle, partitions main (default) and gpu; SLURM_CONF=$CONF"
}

cmd_stop() {
    if pid_alive "$BASE/run/slurmctld.pid" slurmctld; then
        # Cancel our jobs first so no slurmstepd outlives the daemons.
        timeout 10 scancel --user="$(id -un)" >/dev/null 2>&1 || true
        local i
        for i in $(seq 1 30); do
            [[ -z $(timeout 5 squeue -h -t RUNNING,COMPLETING -o %i 2>/dev/null) ]] && break
            sleep 0.5
        done
    fi
    stop_pid "$BASE/run/slurmd.pid" slurmd
    stop_pid "$BASE/run/slurmctld.pid" slurmctld
    stop_pid "$BASE/munge/munged.pid" munged
    log "stopped"
}

cmd_status() {
    local ok=0 name pidfile
    for name in munged slurmctld slurmd; do
        case $name in
            munged) pidfile=$BASE/munge/munged.pid ;;
            *) pidfile=$BASE/run/$name.pid ;;
        esac
        if pid_alive "$pidfile" "$name"; then
            echo "$name: running (pid $(<"$pidfile"))"
        else
            echo "$name: not running"
            ok=1
        fi
    done
    if cluster_answers; then
        timeout 10 sinfo
        timeout 10 squeue
    else
        echo "sinfo: no answer"
        ok=1
    fi
    return $ok
}

case ${1:-} in
    install)
        [[ $(id -u) -eq 0 ]] || die "installing slurm-wlm and munge needs root"
        install_packages
        ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env)
        echo "export SLURM_CONF=$CONF"
        echo "export PATH=$WRAPPERS:\$PATH"
        ;;
    *)
        echo "usage: $0 install|start|stop|status|env" >&2
        exit 2
        ;;
esac
