"""What every target does on the machine pytest runs on: the run directory's owner mark, and the
end of whatever the run left running or mounted there (host clients, port-forwards).

The plugin reaches these only through the Target (base.py), so a target may add to them."""

from ..host.processes import become_subreaper
from ..host.sweep import mark_kept, release_clients, stale_runs, sweep_run_dir, sweep_stale, write_marker

__all__ = ["become_subreaper", "mark_kept", "release_clients", "stale_runs", "sweep_run_dir", "sweep_stale",
           "write_marker"]
