"""A believable agent channel, generated without the database (used by the demo and benchmarks).

The referrer tree grows the way recruiting does: most new agents are brought in by someone who
joined recently (a recruiting wave), some by anyone already in. Levels follow a pyramid — few
联创 at the top, most 特约 at the bottom — and nobody recruits above their own level. The
supplier is then the nearest upline of a higher level, as ``channel.selectors.resolve_supplier``
decides for live applications.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class GeneratedAgent:
    index: int
    rank: int  # 1 = highest level
    referrer: int | None  # index of the referrer, None for a founder
    supplier: int | None  # index of the supplier, None = the company


# Share of each level among non-founders, highest rank first (联创 … 特约).
DEFAULT_LEVEL_MIX = (0.005, 0.03, 0.10, 0.26, 0.605)


def generate_channel(
    n: int,
    *,
    seed: int = 2026,
    founders: int = 3,
    level_mix: tuple[float, ...] = DEFAULT_LEVEL_MIX,
    wave: int = 30,
    wave_share: float = 0.5,
) -> list[GeneratedAgent]:
    """``n`` agents; the first ``founders`` are top-level roots.

    A newcomer's level is drawn from ``level_mix``; their referrer is an agent of the same or a
    higher level (nobody recruits above their own level): with probability ``wave_share`` one of
    the last ``wave`` joiners of that level, else anyone of it. Smaller waves make deeper trees.
    """
    if n < 1:
        return []
    rng = random.Random(seed)
    levels = len(level_mix)
    ranks: list[int] = []
    referrers: list[int | None] = []
    suppliers: list[int | None] = []
    by_rank: dict[int, list[int]] = {r: [] for r in range(1, levels + 1)}
    cumulative = []
    total = 0.0
    for share in level_mix:
        total += share
        cumulative.append(total)
    founders = max(1, min(founders, n - (levels - 1)))  # leave room for one agent of every level
    for i in range(n):
        if i < founders:
            rank, referrer = 1, None
        else:
            if i - founders < levels - 1:
                rank = i - founders + 2  # the first newcomers make sure every level has someone
            else:
                x = rng.random() * total
                rank = next(r for r, c in enumerate(cumulative, start=1) if x <= c)
            eligible = [r for r in range(1, rank + 1) if by_rank[r]]
            # Higher levels recruit more each: weight a level by its headcount x (levels - rank + 1).
            weights = [len(by_rank[r]) * (levels - r + 1) for r in eligible]
            pool = by_rank[rng.choices(eligible, weights)[0]]
            if rng.random() < wave_share:
                referrer = pool[rng.randrange(max(0, len(pool) - wave), len(pool))]
            else:
                referrer = pool[rng.randrange(len(pool))]
        supplier = referrer
        while supplier is not None and not ranks[supplier] < rank:
            supplier = suppliers[supplier]
        ranks.append(rank)
        referrers.append(referrer)
        suppliers.append(supplier)
        by_rank[rank].append(i)
    return [GeneratedAgent(i, ranks[i], referrers[i], suppliers[i]) for i in range(n)]


def depth_of(agents: list[GeneratedAgent]) -> int:
    """The deepest referrer chain (a founder is at depth 0)."""
    depth: list[int] = []
    for a in agents:
        depth.append(0 if a.referrer is None else depth[a.referrer] + 1)
    return max(depth, default=0)
