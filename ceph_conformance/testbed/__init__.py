"""A real Kubernetes on this host, built from the package registries (testbed/README section of README.md)."""
