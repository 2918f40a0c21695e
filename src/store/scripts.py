"""Lua scripts on one Redis or on a Redis Cluster.

Every script is given all the keys it touches (KEYS), and the keys of one call share a
hash slot: a stream and its idempotency keys (`{<stream>}:seen:<log_id>`: the tag is
the stream's whole name, so both hash alike), a key's rate buckets (`{<key id>}`). A
Cluster pipeline refuses EVALSHA, so there a script is sent whole (EVAL); one Redis
gets EVALSHA, the pipeline loading the script first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.cluster import ClusterPipeline, RedisCluster
from redis.commands.core import Script


def queue_call(script: Script, pipe: Any, keys: Sequence[str], args: Sequence[Any]) -> None:
    """Queue one call of `script` on a pipeline (of one Redis or of a Cluster)."""
    if isinstance(pipe, ClusterPipeline):
        pipe.execute_command("EVAL", script.script, len(keys), *keys, *args)
    else:
        script(keys=keys, args=args, client=pipe)


def is_cluster(client: Any) -> bool:
    return isinstance(client, RedisCluster)
