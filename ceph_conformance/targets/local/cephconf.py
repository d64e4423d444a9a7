"""Renders the ceph.conf of a run's local cluster: everything inside the run directory."""

# Production's shape on one host: three mons (a, b, c on their own ports, all in the monmap from
# the start) and pools of 3 copies that serve I/O with 2, one copy per CRUSH host.
# Settings that keep it HEALTH_OK (measured on small hosts): no insecure global_id reclaim, a low
# mon disk-space warning, fixed small pg counts, and a small OSD memory footprint.
MONS = ("a", "b", "c")
TEMPLATE = """\
[global]
fsid = {fsid}
mon_host = {mon_host}
mon_initial_members = {mon_names}
public_addr = 127.0.0.1
ms_bind_msgr1 = false
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
auth_allow_insecure_global_id_reclaim = false
keyring = {run_dir}/keyring/$name.keyring
log_file = {run_dir}/log/$name.log
mon_cluster_log_file = {run_dir}/log/cluster.log
pid_file = {run_dir}/run/$name.pid
run_dir = {run_dir}/run
crash_dir = {run_dir}/crash
exec_dir = {run_dir}/run
mon_data = {run_dir}/data/$name
osd_data = {run_dir}/data/$name
mgr_data = {run_dir}/data/$name
mds_data = {run_dir}/data/$name
rgw_data = {run_dir}/data/$name
mon_allow_pool_delete = true
mon_data_avail_warn = {mon_data_avail_warn}
osd_pool_default_size = 3
osd_pool_default_min_size = 2
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_max_pg_per_osd = 500
osd_memory_target = 939524096
bluestore_cache_autotune = false
bluestore_cache_size = 67108864
osd_objectstore = bluestore
osd_crush_update_on_start = true
debug_ms = 0
# Map changes (pool creation, OSD boot) commit faster; three mons on one host agree in microseconds.
paxos_propose_interval = 0.2
# The first quorum commits the monmap's features and calls a second election at once; a mon that
# missed its start waits out the election timeout (5 s) before the next round. On one host the
# mons answer in milliseconds: 1 s is still ample.
mon_election_timeout = 1
# PG states reach `ceph status` through the OSDs' stats reports to the mgr and the mgr's digest
# to the mons, each every 5 s by default: a settled cluster looked unsettled for up to 10 s more.
# Every second instead; a few small messages a second on a cluster of this size.
mgr_stats_period = 1
mon_mgr_digest_period = 1
# The mgr's tick: its beacon to the mons (a new mgr is marked available on one) and the step in
# which it moves a pool's pg_num and pgp_num towards their targets, every 2 s by default. Every
# second: the mgr is active sooner at bring-up, and a split takes one step a second.
mgr_tick_period = 1
# After a split the mgr raises pgp_num in steps that leave at most this share of the objects
# misplaced (5 % by default, pacing a production cluster's data movement): measured here, 8 -> 16
# took 8 steps of one tick each (18 s on 3 OSDs; 90 s on the full run's busy cluster). This
# cluster holds a few hundred MB: half of it may move at once, and the split lands in 2 steps
# (4.5 s). What the check verifies (pg_num and pgp_num reached, every PG active+clean, the data
# intact) is the same.
target_max_misplaced_ratio = 0.5
log_max_recent = 500
# A dead host's OSDs are marked out (and their data re-replicated) after 5 s rather than 10 min,
# and recovery on these loop devices (Ceph takes them for HDDs) is not slowed down. No OSD of this
# cluster goes down but on purpose, so nothing is marked out that would have come back.
mon_osd_down_out_interval = 5
# The mons look at that interval (and refresh their own health checks) at their tick, every 5 s by
# default: a dead host's OSDs were marked out 5.6 to 8.4 s after the suite saw them down, 4.2 s with
# a tick every second. A tick's work is small on a cluster of this size.
mon_tick_interval = 1
osd_recovery_sleep_hdd = 0
osd_max_backfills = 4

# Daemons have fixed admin sockets; clients get one per process (several client.admin tools and
# FUSE mounts run at once).
[mon]
admin_socket = {run_dir}/run/$name.asok
# Where mkfs put each mon's key: mons authenticate each other with it.
keyring = {run_dir}/data/$name/keyring
[mgr]
admin_socket = {run_dir}/run/$name.asok
[osd]
admin_socket = {run_dir}/run/$name.asok
[mds]
admin_socket = {run_dir}/run/$name.asok
# When one client renames or rewrites a file another client has open, the MDS finishes handing the
# file's caps over at its next tick (every 5 s by default): measured with ceph-fuse, a rename on
# client A while client B read the file stalled 4-5 s (1 s with a 1 s tick). A quarter second: 12
# such publishes took 14 s, now 0.4 s; the MinIO checks on CephFS went from 28 and 21 s to 4 and 3 s.
mds_tick_interval = 0.25
[client]
admin_socket = {run_dir}/run/$name.$pid.asok
"""


def mon_addr(port):
    return f"v2:127.0.0.1:{port}"


def render(*, fsid, mon_ports, run_dir, mon_data_avail_warn=2):
    """mon_ports: {mon name: port}."""
    return TEMPLATE.format(
        fsid=fsid, run_dir=run_dir, mon_data_avail_warn=mon_data_avail_warn,
        mon_host=",".join(f"[{mon_addr(port)}]" for port in mon_ports.values()),
        mon_names=",".join(mon_ports),
    )
