# The suite's pytest plugins: the run lifecycle (ceph_conformance.plugin) and the fixtures checks use.
pytest_plugins = ["ceph_conformance.plugin", "fixtures.cluster", "fixtures.s3", "fixtures.sharedfs", "fixtures.block",
                  "fixtures.disruptive", "fixtures.ghost", "fixtures.s3_tools", "fixtures.registry"]
