"""Statistics: rollups the flusher keeps current, and the queries that answer from them.

`rollup.Rollups` is the flusher's hook (`prepare` marks a batch with its token,
`after_store` counts what was stored, exactly once); `query` answers the statistics API
from the rollups only. See docs/statistics.md for the design.
"""
