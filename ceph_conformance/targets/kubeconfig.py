"""The kubeconfig target: a Kubernetes cluster that exists. With --rook-namespace it tests the Rook
cluster already there (the run adds only run-named resources and removes them); with --deploy-rook
it installs Rook and a CephCluster on the devices given by name, and removes them at the end."""

from .rook import preflight
from .rook.settings import parse_osd_devices
from .rook.target import RookTarget


class KubeconfigTarget(RookTarget):
    name = "kubeconfig"

    def __init__(self, options):
        super().__init__(options)
        self.deploys_rook = bool(options.deploy_rook)

    def preflight(self):
        super().preflight()
        preflight.kubeconfig_file(self.options.kubeconfig)
        # A kubeconfig that does not parse, or an API that cannot be reached, is said before the run.
        from .rook.kube import Kube, api_client

        kube = Kube(api_client(self.options.kubeconfig, self.options.context))
        major, minor, git_version = kube.server_version()
        # Outside Rook's documented range with --allow-unsupported-kubernetes: said again at bring-up.
        preflight.kubernetes_supported(self.rook, major, minor, git_version,
                                       allow=self.options.allow_unsupported_kubernetes)

    def provide_cluster(self, run_dir, progress):
        nodes = parse_osd_devices(self.options.osd_devices) if self.deploys_rook else {}
        return self.options.kubeconfig, self.options.context, nodes, {"cluster": "existing"}

    def keep_instructions(self, run_dir):
        return []
