"""The vagrant target: VMs from manifests/Vagrantfile (a kubeadm control plane and workers with two
extra disks each, libvirt or VirtualBox), then Rook on them; destroyed at the end unless
--keep-cluster."""

import os
import secrets as pysecrets
import shutil
import subprocess
from pathlib import Path

from ..errors import SetupError
from ..secrets import register, write_private
from .rook import preflight
from .rook.target import RookTarget

VAGRANTFILE = Path(__file__).resolve().parents[2] / "manifests" / "Vagrantfile"
DISKS = {"libvirt": ("/dev/vdb", "/dev/vdc"), "virtualbox": ("/dev/sdb", "/dev/sdc")}
UP_TIMEOUT = 3600


class VagrantTarget(RookTarget):
    name = "vagrant"
    removes_cluster = True

    def preflight(self):
        super().preflight()
        preflight.programs(["vagrant"], "the vagrant target makes its VMs with Vagrant; install it (apt-get "
                                        "install vagrant) and a provider (vagrant-libvirt or VirtualBox)")
        if self.options.vagrant_provider == "virtualbox":
            preflight.programs(["VBoxManage"], "--vagrant-provider virtualbox needs VirtualBox installed")
        elif "vagrant-libvirt" not in self._vagrant(["plugin", "list"], Path.cwd(), {}, timeout=60):
            raise SetupError("--vagrant-provider libvirt needs the vagrant-libvirt plugin "
                             "(apt-get install vagrant-libvirt, or `vagrant plugin install vagrant-libvirt`)")
        if not VAGRANTFILE.is_file():
            raise SetupError(f"{VAGRANTFILE}: missing from the suite's checkout")

    def _env(self, run_dir):
        o = self.options
        self._token = getattr(self, "_token", None) or register(
            f"{pysecrets.token_hex(3)}.{pysecrets.token_hex(8)}")  # kubeadm's token format
        return {"VAGRANT_VAGRANTFILE": str(VAGRANTFILE), "VAGRANT_DOTFILE_PATH": str(run_dir / "vagrant"),
                "VAGRANT_EXPERIMENTAL": "disks", "CCONF_WORKERS": str(o.nodes), "CCONF_NAME": f"cconf-{run_dir.name}",
                "CCONF_DISK_GIB": str(max(10, int(o.osd_size_gib))), "CCONF_PROVIDER": o.vagrant_provider,
                "CCONF_KUBEADM_TOKEN": self._token}

    def _vagrant(self, args, cwd, env, timeout):
        argv = [shutil.which("vagrant") or "vagrant", *args]
        try:
            proc = subprocess.run(argv, cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True,
                                  timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise SetupError(f"`vagrant {' '.join(args)}` did not finish within {timeout}s") from None
        if proc.returncode != 0:
            said = (proc.stderr.strip().splitlines() or proc.stdout.strip().splitlines() or ["no output"])[-1]
            raise SetupError(f"`vagrant {' '.join(args)}` failed: {said}")
        return proc.stdout

    def provide_cluster(self, run_dir, progress):
        o = self.options
        env = self._env(run_dir)
        self.description = {"vagrant_dir": str(run_dir / "vagrant"), "cluster": "vagrant"}
        self._record()  # vagrant destroy must run even if `up` fails half-way
        progress(f"vagrant: bringing up 1 control plane and {o.nodes} workers ({o.vagrant_provider})")
        self._vagrant(["up", f"--provider={o.vagrant_provider}"], run_dir, env, UP_TIMEOUT)
        name = env["CCONF_NAME"]
        admin = self._vagrant(["ssh", f"{name}-cp", "-c", "sudo cat /etc/kubernetes/admin.conf"], run_dir, env, 120)
        kubeconfig = write_private(run_dir / "kubeconfig", admin)  # holds the cluster admin's key: 0600
        nodes = {f"{name}-{i}": list(DISKS[o.vagrant_provider]) for i in range(1, o.nodes + 1)}
        return kubeconfig, None, nodes, {"cluster": "vagrant", "vagrant_dir": str(run_dir / "vagrant"),
                                         "vagrant_provider": o.vagrant_provider}

    def release_cluster(self, run_dir, progress):
        if not self.description.get("vagrant_dir"):
            return
        self._vagrant(["destroy", "-f"], run_dir, self._env(run_dir), 900)
        progress("vagrant: VMs destroyed")

    def keep_instructions(self, run_dir):
        return [f"vagrant cluster kept: export KUBECONFIG={Path(run_dir) / 'kubeconfig'}",
                f"remove it: cd {run_dir} && VAGRANT_VAGRANTFILE={VAGRANTFILE} VAGRANT_DOTFILE_PATH={run_dir}/vagrant "
                "vagrant destroy -f"]
