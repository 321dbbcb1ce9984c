"""Nodes joined through NATS: cross-node PIDs, failure detection, cluster-wide names.

A node with `ClusterSettings` (`Node(cluster=...)`, or `--node NAME --cluster URL`) routes
every operation on another node's PID through that node's `RemoteNode`; see
docs/guide/nodes.md.
"""

from actors.cluster.cluster import Cluster
from actors.cluster.remote import RemoteNode
from actors.cluster.server import NatsServer
from actors.cluster.settings import EMBEDDED, ClusterSettings

__all__ = ["EMBEDDED", "Cluster", "ClusterSettings", "NatsServer", "RemoteNode"]
