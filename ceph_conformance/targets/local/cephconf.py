"""Renders the ceph.conf of a run's local cluster: everything inside the run directory."""

# Settings that keep a small one-host cluster HEALTH_OK (measured, see DESIGN.md): no insecure
# global_id reclaim, a low mon disk-space warning, fixed small pg counts, pool size 2 on 3 hosts,
# and a small OSD memory footprint.
TEMPLATE = """\
[global]
fsid = {fsid}
mon_host = v2:127.0.0.1:{mon_port}
mon_initial_members = a
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
osd_pool_default_size = 2
osd_pool_default_min_size = 1
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
# Map changes (pool creation, OSD boot) commit faster; a one-mon test cluster has no quorum cost.
paxos_propose_interval = 0.2
log_max_recent = 500
# A dead host's OSDs are marked out (and their data re-replicated) after 10 s rather than 10 min,
# and recovery on these loop devices (Ceph takes them for HDDs) is not slowed down.
mon_osd_down_out_interval = 10
osd_recovery_sleep_hdd = 0
osd_max_backfills = 4

# Daemons have fixed admin sockets; clients get one per process (several client.admin tools and
# FUSE mounts run at once).
[mon]
admin_socket = {run_dir}/run/$name.asok
[mgr]
admin_socket = {run_dir}/run/$name.asok
[osd]
admin_socket = {run_dir}/run/$name.asok
[mds]
admin_socket = {run_dir}/run/$name.asok
[client]
admin_socket = {run_dir}/run/$name.$pid.asok
"""


def render(*, fsid, mon_port, run_dir, mon_data_avail_warn=2):
    return TEMPLATE.format(
        fsid=fsid, mon_port=mon_port, run_dir=run_dir, mon_data_avail_warn=mon_data_avail_warn
    )
