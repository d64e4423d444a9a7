"""This host's resources a run uses: processes, loop devices, mounts, and the sweep that removes them."""
