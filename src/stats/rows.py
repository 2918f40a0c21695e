"""The stored form of 15-minute periods: additions as rows, not yet split into segments.

A view adds ~25 counters (see `footfall.stats.cells`), each to every segment it belongs
to (all, its event, course, country, device): stored expanded, a 15-minute period would
weigh more than its raw views. So 15-minute periods keep the additions once, each with
its segment key, aggregated (equal key, dimension, value and counter are summed), and
grouped by dimension so that a query reads only the dimension it reports; days and
months, which queries read in bulk, keep them expanded (`rollup.encode_sum`).

A document's fields: `k` the segment keys (JSON list), `r.<dimension>` a JSON pair
[values, rows of (key index, value index, counter, amount)], `g` visitor registers as
(key index, register index, rank) records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import orjson
from bson import Binary

from footfall.stats import cells

#: (segment key, dimension, value, counter) -> amount
Adds = dict[tuple[Any, str, str, str], float]
#: (segment key, register index) -> rank
Registers = dict[tuple[Any, int], int]
_REGISTER = np.dtype([("k", "<u4"), ("i", "<u2"), ("r", "u1")])


def encode(adds: Adds, registers: Registers) -> dict[str, Any]:
    keys: dict[Any, int] = {}
    by_dim: dict[str, tuple[dict[str, int], list[list[Any]]]] = {}
    for (key, dim, value, counter), amount in adds.items():
        if not amount:
            continue
        ki = keys.setdefault(key, len(keys))
        values, rows = by_dim.setdefault(dim, ({}, []))
        vi = values.setdefault(value, len(values))
        rows.append([ki, vi, counter, amount])
    records = np.empty(len(registers), dtype=_REGISTER)
    for n, ((key, index), rank) in enumerate(registers.items()):
        records[n] = (keys.setdefault(key, len(keys)), index, rank)
    return {
        "k": Binary(orjson.dumps(list(keys))),
        "r": {
            dim: Binary(orjson.dumps([list(values), rows]))
            for dim, (values, rows) in by_dim.items()
        },
        "g": Binary(records.tobytes()),
    }


def decode(doc: Mapping[str, Any]) -> tuple[Adds, Registers]:
    """Every addition and register of a document (to fold it with others)."""
    keys = [tuple(k) for k in orjson.loads(doc["k"])]
    adds: Adds = {}
    for dim, blob in doc.get("r", {}).items():
        values, rows = orjson.loads(blob)
        for ki, vi, counter, amount in rows:
            adds[(keys[ki], dim, values[vi], counter)] = amount
    registers: Registers = {}
    for record in np.frombuffer(doc.get("g", b""), dtype=_REGISTER):
        registers[(keys[int(record["k"])], int(record["i"]))] = int(record["r"])
    return adds, registers


def add(into: tuple[Adds, Registers], more: tuple[Adds, Registers]) -> None:
    adds, registers = into
    for cell, amount in more[0].items():
        adds[cell] = adds.get(cell, 0) + amount
    for register, rank in more[1].items():
        if rank > registers.get(register, 0):
            registers[register] = rank


def expand(
    doc: Mapping[str, Any], wanted: set[str] | None, on_cells: Any, on_registers: Any
) -> None:
    """Split a document's rows into segments: `on_cells(segment, dim, table)` per segment
    and dimension present, `on_registers(segment, index array, rank array)`. With
    `wanted`, only those segments."""
    keys = orjson.loads(doc["k"])
    segments = [[s for s in cells.segments(*key) if wanted is None or s in wanted] for key in keys]
    for dim, blob in (doc.get("r") or {}).items():
        values, rows = orjson.loads(blob)
        tables: dict[str, dict[str, dict[str, float]]] = {}
        for ki, vi, counter, amount in rows:
            for seg in segments[ki]:
                cell = tables.setdefault(seg, {}).setdefault(values[vi], {})
                cell[counter] = cell.get(counter, 0) + amount
        for seg, table in tables.items():
            on_cells(seg, dim, table)
    data = doc.get("g")
    if data and on_registers is not None:
        records = np.frombuffer(data, dtype=_REGISTER)
        for ki, segs in enumerate(segments):
            mine = records[records["k"] == ki]
            if len(mine):
                for seg in segs:
                    on_registers(seg, mine["i"].astype(np.int64), mine["r"])


def gather(found: Iterable[tuple[Any, str, str, str, float]], adds: Adds) -> None:
    for key, dim, value, counter, amount in found:
        cell = (key, dim, value, counter)
        adds[cell] = adds.get(cell, 0) + amount
