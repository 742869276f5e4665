"""The market, month by month: a vectorised agent-based model (numpy arrays, one slot per agent).

Each month (docs/simulator.md, "The model", says why each step is as it is):

1. **Recruitment** — every active agent pitches ``contacts_per_agent_month`` people; each
   joins with ``join_probability`` (+ a campaign's extra) × the share of the market not yet
   reached (saturation). Recruits join at a level drawn from ``entry_level_mix``.
2. **Purchases** — recruits pay their entry (an entry order, a gift pack, or nothing), then
   every agent restocks by policy (up to ``target_months_of_stock`` of expected outflow, at
   least ``min_restock_qty``), plus what they buy to reach an upgrade or award threshold
   within reach (``buy_to_upgrade``). Orders are filled by the supplier the plan's ``supply``
   names; levels are processed lowest first so that a supplier short of stock buys before it
   fills (its own order comes from its own supplier, up to the company).
3. **Retail and own use** — customers (a Poisson number around each agent's own average,
   shrinking as the market fills up) buy at retail from the agent's stock (tiered) or from the
   company with the member as bound agent (social mall); agents use ``own_use_units_month``.
4. **Upgrades** — every active agent's upgrade is decided on the month's figures (the rules
   of ``Engine.upgrade_for``); a top-up is paid as an upgrade order at the new level's price.
5. **Attrition** — agents quit with ``base_monthly`` + a share that grows with their loss;
   their unsold stock is bought back under ``returns`` or stranded.
6. **Settlement** — the month (and quarter, year) closes: team ladders and target awards.

Every reward is computed with the plan's own rules in integer fen (compiled.py), line by
line as ``Engine`` would, so the exact path (exact.py) replaying the recorded events through
the production engine gives identical amounts to the fen. Money is int64 fen throughout;
floats are used only for probabilities and the agents' expectations of demand.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from ..periods import period_bounds, period_label
from .compiled import PURCHASE_CONDITIONS, Compiled, Condition, UpgradeRule, frac, round_div
from .scenario import Scenario

# What funded reward lines: one word for all, or one per line (recruitment | participant | retail).
Category = npt.NDArray[np.str_] | str
# Or the parts that did: (recruitment part, base[, retail part]) per line.
Split = tuple[np.ndarray, ...]

__all__ = ["Market", "PHASES", "event_time"]

# The business day of each month and the hour of each step: all of a month's purchases fall on
# one date, so a buyback window includes or excludes a month's lots whole (docs/simulator.md).
BUSINESS_DAY = 15
PHASES = {
    "join": (9, 0),
    "entry": (9, 30),
    "restock": (10, 0),
    "retail": (12, 0),
    "own_use": (13, 0),
    "forced": (17, 0),
    "upgrade": (18, 0),
    "exit": (20, 0),
}
PURCHASE_KINDS = ("entry", "upgrade", "restock")
SMOOTHING = 0.5  # weight of the past in an agent's expected monthly outflow
FUNDING = ("recruitment", "participant", "retail")


def event_time(start: tuple[int, int], month: int, phase: str, tz: ZoneInfo) -> datetime:
    year, mon = start
    total = (year * 12 + mon - 1) + month - 1
    hour, minute = PHASES[phase]
    return datetime(total // 12, total % 12 + 1, BUSINESS_DAY, hour, minute, tzinfo=tz)


def month_date(start: tuple[int, int], month: int) -> date:
    year, mon = start
    total = (year * 12 + mon - 1) + month - 1
    return date(total // 12, total % 12 + 1, 1)


@dataclass
class Batch:
    """Completed orders of one kind: one row per distinct order, ``count`` identical orders each."""

    kind: str
    buyer: np.ndarray
    seller: np.ndarray
    bound: np.ndarray
    amount: np.ndarray  # fen per order
    count: np.ndarray
    units: np.ndarray  # units per order
    phase: str
    sku: str = "unit"  # unit: the simulated product, held as stock; pack: a gift pack, used at once


class Market:
    """State of the simulated market; ``step(month)`` advances it by one month."""

    def __init__(
        self,
        compiled: Compiled,
        scenario: Scenario,
        *,
        months: int,
        seed: int,
        record: bool = False,
        overlays: dict[int, Compiled] | None = None,
    ):
        self.c = compiled
        # A campaign's month runs on the plan with its overlay laid over (plans.campaign): month → compiled.
        self.base = compiled
        self.overlays = overlays or {}
        self.s = scenario
        self.months = months
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.record = record
        self.log: list[tuple[Any, ...]] = []
        self.tz = ZoneInfo(compiled.plan.timezone)
        year, mon = (int(x) for x in scenario.start.split("-"))
        self.start = (year, mon)
        self.L = compiled.levels
        self.market_size = scenario.market_size
        self.n = 0
        founders = sum(scenario.founders.values())
        self.cap = int(min(scenario.market_size + founders, max(4096, founders * 64)))
        self._alloc(self.cap)
        self.ever_joined = 0
        self.order_seq = 0

        # ring of the last W months' purchases, for buyback lots (FIFO: the units held are the latest bought)
        window = compiled.returns_window
        self.W = max(1, min(months, (window // 28 + 2) if window is not None else 1))
        self.ring_u1 = np.zeros((self.W, self.cap), dtype=np.int32)  # entry/restock units at the month's level
        self.ring_u2 = np.zeros((self.W, self.cap), dtype=np.int32)  # upgrade-order units at the new level
        self.ring_r1 = np.zeros((self.W, self.cap), dtype=np.int8)
        self.ring_r2 = np.zeros((self.W, self.cap), dtype=np.int8)

        # company side and global tallies (fen / units), kept apart from the per-agent arrays
        # collected, rewards, prize_cash, prize_kind, buyback, campaigns, goods
        self.brand: defaultdict[str, int] = defaultdict(int)
        self.customers_paid = 0
        self.units: defaultdict[str, int] = defaultdict(int)
        self.funding = {kind: dict.fromkeys(FUNDING, 0) for kind in ("rewards", "margins")}
        self.rule_totals: dict[str, int] = defaultdict(int)
        self.paid_depth = 0
        self.monthly: list[dict[str, Any]] = []
        self.conservation: list[dict[str, Any]] = []
        self.periods: dict[str, dict[str, np.ndarray]] = {}
        extra = sorted({p for c in self.overlays.values() for p in c.periods} - set(compiled.periods))
        for p in (*compiled.periods, *extra):
            self.periods[p] = {
                k: np.zeros(self.cap, dtype=np.int64)
                for k in ("purchase", "purchase_rec", "retail", "retail_cust", "newref")
            }
        self._depth_cache: tuple[int, list[np.ndarray]] | None = None
        self._month_acc: dict[str, int] = defaultdict(int)
        self.saturation_month: int | None = None
        self.campaigns = defaultdict(list)
        for campaign in scenario.campaigns:
            if campaign.month <= months:
                self.campaigns[campaign.month].append(campaign)
        mix = scenario.recruitment.entry_level_mix or {compiled.codes[-1]: Decimal(1)}
        self.mix_levels = np.array([compiled.codes.index(code) for code in mix], dtype=np.int64)
        self.mix_p = np.array([float(v) for v in mix.values()], dtype=np.float64)
        self.mix_p = self.mix_p / self.mix_p.sum()
        cust = scenario.retail.customers_per_agent_month
        self.cust_mean, self.cust_sd = float(cust.mean), float(cust.sd)
        self.upc = scenario.retail.units_per_customer
        self.own_use = scenario.retail.own_use_units_month
        self.target_months = float(scenario.restock_policy.target_months_of_stock)
        self.reach = scenario.restock_policy.upgrade_reach
        self.holds_stock = not compiled.social_mall
        self._window_cache: dict[tuple[int, str, int], np.ndarray] = {}
        self._incl_cache: dict[tuple[int, int], bool] = {}

    # -- storage -------------------------------------------------------------------------

    # One array per agent for each of FIELDS, set by _alloc (declared here for the type checker).
    ref: npt.NDArray[np.int32]
    sup: npt.NDArray[np.int32]
    depth: npt.NDArray[np.int32]
    rank: npt.NDArray[np.int16]
    active: npt.NDArray[np.bool_]
    founder: npt.NDArray[np.bool_]
    joined: npt.NDArray[np.int16]
    exit_month: npt.NDArray[np.int16]
    join_rank: npt.NDArray[np.int16]
    ability: npt.NDArray[np.float64]
    exp_out: npt.NDArray[np.float64]
    stock: npt.NDArray[np.int64]
    direct: npt.NDArray[np.int32]
    paid_orders: npt.NDArray[np.int64]
    paid_upline: npt.NDArray[np.int64]
    sales_retail: npt.NDArray[np.int64]
    sales_wholesale: npt.NDArray[np.int64]
    recv_reward: npt.NDArray[np.int64]
    recv_prize_cash: npt.NDArray[np.int64]
    recv_prize_kind: npt.NDArray[np.int64]
    recv_buyback: npt.NDArray[np.int64]
    recv_margin: npt.NDArray[np.int64]
    own_use_value: npt.NDArray[np.int64]
    entry_paid: npt.NDArray[np.int64]
    qual_amount: npt.NDArray[np.int64]
    rec_funded: npt.NDArray[np.int64]
    cum_purchase: npt.NDArray[np.int64]
    max_single: npt.NDArray[np.int64]
    cum_spend: npt.NDArray[np.int64]
    cum_retail: npt.NDArray[np.int64]
    u_bought_company: npt.NDArray[np.int64]
    u_bought_agents: npt.NDArray[np.int64]
    u_sold_retail: npt.NDArray[np.int64]
    u_used: npt.NDArray[np.int64]
    u_sold_agents: npt.NDArray[np.int64]
    u_packs: npt.NDArray[np.int64]
    u_stranded: npt.NDArray[np.int64]
    u_returned: npt.NDArray[np.int64]
    u_month_out: npt.NDArray[np.int64]
    u_demand: npt.NDArray[np.int64]
    stranded_value: npt.NDArray[np.int64]

    FIELDS = {
        "ref": (np.int32, -1),
        "sup": (np.int32, -1),
        "depth": (np.int32, 0),
        "rank": (np.int16, 0),
        "active": (np.bool_, False),
        "founder": (np.bool_, False),
        "joined": (np.int16, 0),
        "exit_month": (np.int16, 0),
        "join_rank": (np.int16, 0),
        "ability": (np.float64, 0.0),
        "exp_out": (np.float64, 0.0),
        "stock": (np.int64, 0),
        "direct": (np.int32, 0),
        # money, fen
        "paid_orders": (np.int64, 0),
        "paid_upline": (np.int64, 0),
        "sales_retail": (np.int64, 0),
        "sales_wholesale": (np.int64, 0),
        "recv_reward": (np.int64, 0),
        "recv_prize_cash": (np.int64, 0),
        "recv_prize_kind": (np.int64, 0),
        "recv_buyback": (np.int64, 0),
        "recv_margin": (np.int64, 0),
        "own_use_value": (np.int64, 0),
        "entry_paid": (np.int64, 0),
        "qual_amount": (np.int64, 0),
        "rec_funded": (np.int64, 0),
        # figures for upgrades
        "cum_purchase": (np.int64, 0),
        "max_single": (np.int64, 0),
        "cum_spend": (np.int64, 0),
        "cum_retail": (np.int64, 0),
        # units
        "u_bought_company": (np.int64, 0),
        "u_bought_agents": (np.int64, 0),
        "u_sold_retail": (np.int64, 0),
        "u_used": (np.int64, 0),
        "u_sold_agents": (np.int64, 0),
        "u_packs": (np.int64, 0),
        "u_stranded": (np.int64, 0),
        "u_returned": (np.int64, 0),
        "u_month_out": (np.int64, 0),
        "u_demand": (np.int64, 0),
        "stranded_value": (np.int64, 0),
    }

    def _alloc(self, cap: int) -> None:
        for name, (dtype, init) in self.FIELDS.items():
            old = getattr(self, name, None)
            arr: npt.NDArray[Any] = np.full(cap, init, dtype=dtype)
            if old is not None:
                arr[: len(old)] = old
            setattr(self, name, arr)
        old = getattr(self, "cnt", None)
        cnt = np.zeros((cap, self.L), dtype=np.int32)
        if old is not None:
            cnt[: len(old)] = old
        self.cnt = cnt
        old = getattr(self, "recv_rule", None)
        ids = dict.fromkeys((*self.base.rule_ids, *(i for c in self.overlays.values() for i in c.rule_ids)))
        rules = {rid: np.zeros(cap, dtype=np.int64) for rid in (*ids, "margin", "returns")}
        if old is not None:
            for rid, arr in old.items():
                rules[rid][: len(arr)] = arr
        self.recv_rule = rules
        for name in ("ring_u1", "ring_u2", "ring_r1", "ring_r2"):
            old = getattr(self, name, None)
            if old is not None:
                new = np.zeros((old.shape[0], cap), dtype=old.dtype)
                new[:, : old.shape[1]] = old
                setattr(self, name, new)
        for acc in getattr(self, "periods", {}).values():
            for key, old in list(acc.items()):
                new = np.zeros(cap, dtype=np.int64)
                new[: len(old)] = old
                acc[key] = new
        self.cap = cap

    def _grow(self, needed: int) -> None:
        if needed <= self.cap:
            return
        founders = sum(self.s.founders.values())
        cap = max(needed, int(self.cap * 1.6))
        cap = min(cap, max(needed, self.market_size + founders))
        self._alloc(cap)

    # -- helpers -------------------------------------------------------------------------

    def at(self, month: int, phase: str) -> datetime:
        return event_time(self.start, month, phase, self.tz)

    def _up(self, x: np.ndarray) -> np.ndarray:
        """The referrer of each agent in ``x`` (-1 for none or for -1)."""
        return np.where(x >= 0, self.ref[np.maximum(x, 0)], -1)

    def _level_ok(self, test: str, referee: np.ndarray, beneficiary: np.ndarray) -> np.ndarray:
        if test == "any":
            return np.ones(len(referee), dtype=bool)
        if test == "same":
            return referee == beneficiary
        if test == "lower":
            return referee > beneficiary  # index 0 is the highest level
        return referee < beneficiary

    def _resolve(self, start: np.ndarray, level: np.ndarray) -> np.ndarray:
        """channel.selectors.resolve_supplier: the first active agent of a higher level than ``level`` among
        ``start`` and its supplier chain; -1 = the company."""
        cand = start.astype(np.int32).copy()
        for _ in range(self.L + 2):
            valid = cand >= 0
            safe = np.maximum(cand, 0)
            ok = ~valid | (self.active[safe] & (self.rank[safe] < level))
            if ok.all():
                break
            bad = ~ok
            cand[bad] = self.sup[cand[bad]]
        return cand

    def _depth_groups(self) -> list[np.ndarray]:
        """Agents grouped by referrer depth, deepest first (roots left out): for team sums."""
        if self._depth_cache is not None and self._depth_cache[0] == self.n:
            return self._depth_cache[1]
        depth = self.depth[: self.n]
        order = np.argsort(depth, kind="stable")
        bounds = np.searchsorted(depth[order], np.arange(1, int(depth.max(initial=1)) + 2))
        groups = [order[bounds[d - 1] : bounds[d]] for d in range(int(depth.max(initial=1)), 1, -1)]
        groups = [g for g in groups if len(g)]
        self._depth_cache = (self.n, groups)
        return groups

    def team_sum(self, values: np.ndarray) -> np.ndarray:
        """Each agent's value plus everyone's below them in the referrer tree (int64; 1-D or 2-D rows)."""
        team = values[: self.n].copy()
        for idx in self._depth_groups():
            np.add.at(team, self.ref[idx], team[idx])
        return team

    def team_max(self, values: np.ndarray) -> np.ndarray:
        team = values[: self.n].copy()
        for idx in self._depth_groups():
            np.maximum.at(team, self.ref[idx], team[idx])
        return team

    def _window_ok(self, month: int, phase: str, window: int) -> np.ndarray:
        """ok[j]: an order in ``month`` at ``phase`` is within ``window`` days of joining in month j."""
        key = (month, phase, window)
        if key not in self._window_cache:
            at = self.at(month, phase)
            ok = np.zeros(month + 1, dtype=bool)
            for j in range(1, month + 1):
                ok[j] = not (at - self.at(j, "join") > timedelta(days=window))
            self._window_cache[key] = ok
        return self._window_cache[key]

    def _included(self, exit_month: int, lot_month: int) -> bool:
        """A lot bought in ``lot_month`` is within the buyback window of an exit in ``exit_month``."""
        key = (exit_month, lot_month)
        if key not in self._incl_cache:
            at = self.at(exit_month, "exit")
            cutoff = at - timedelta(days=self.c.returns_window or 0)
            lots = [self.at(lot_month, p) for p in ("entry", "restock", "forced", "upgrade")]
            inside = [cutoff <= t <= at for t in lots]
            if len(set(inside)) != 1:  # cannot happen: the window's edge is at 20:00, the lots before
                raise AssertionError("a buyback window splits a month's lots")
            self._incl_cache[key] = inside[0]
        return self._incl_cache[key]

    def _next_id(self) -> int:
        self.order_seq += 1
        return self.order_seq

    # -- rewards ---------------------------------------------------------------------------

    def _pay(
        self,
        ben: np.ndarray,
        amount: np.ndarray,
        count: np.ndarray,
        rule: str,
        payer: np.ndarray | None,
        category: Category,
        generation: int,
        kind: str = "reward",
        split: Split | None = None,
    ) -> None:
        """Credit reward lines: ``amount`` per order (already rounded), ``count`` identical orders each.

        ``category``: what funded each line (recruitment | participant | retail), or ``split``: the
        recruitment-funded and retail-funded parts of the volume it was computed on."""
        keep = amount != 0
        if not keep.any():
            return
        ben, amount, count = ben[keep], amount[keep], count[keep]
        total = amount * count
        np.add.at(self.recv_rule[rule], ben, total)
        if kind == "reward":
            np.add.at(self.recv_reward, ben, total)
        self.rule_totals[rule] += int(total.sum())
        if generation > self.paid_depth:
            self.paid_depth = generation
        if payer is not None:
            payer = payer[keep]
            company = payer < 0
            self.brand["rewards"] += int(total[company].sum())
            self._month_acc["company_rewards"] += int(total[company].sum())
            np.add.at(self.paid_upline, payer[~company], total[~company])
        else:
            self.brand["rewards"] += int(total.sum())
            self._month_acc["company_rewards"] += int(total.sum())
        self._month_acc["rewards"] += int(total.sum())
        self._fund("rewards", total, category, split, keep)

    def _fund(
        self, what: str, total: np.ndarray, category: Category | None, split: Split | None, keep: np.ndarray
    ) -> None:
        """Add reward (or margin) amounts to what funded them: recruitment, participants' purchases, retail."""
        parts = dict.fromkeys(FUNDING, 0)
        if split is not None:
            rec_part, base = split[0][keep], split[1][keep]
            safe = np.maximum(base, 1)
            rec = total * rec_part // safe
            parts["recruitment"] = int(rec.sum())
            ret = total * split[2][keep] // safe if len(split) > 2 else np.zeros(len(total), dtype=np.int64)
            parts["retail"] = int(ret.sum())
            parts["participant"] = int((total - rec - ret).sum())
        elif isinstance(category, str):
            parts[category] = int(total.sum())
        else:
            assert category is not None  # a category or a split is given
            category = category[keep]
            for name in FUNDING:
                parts[name] = int(total[category == name].sum())
        for name, value in parts.items():
            self.funding[what][name] += value
            self._month_acc[f"fund_{what}_{name}"] += value

    def _orders(self, b: Batch, month: int, seller_cost: np.ndarray) -> None:
        """Money, figures and rewards of completed orders (``OrderCompleted`` as Engine processes it)."""
        c = self.c
        if not len(b.buyer):
            return
        total = b.amount * b.count
        has_buyer = b.buyer >= 0
        has_seller = b.seller >= 0
        purchase = b.kind in PURCHASE_KINDS
        if b.kind in ("entry", "upgrade"):
            category: np.ndarray | str = "recruitment"
        elif b.kind == "restock":
            category = "participant"
        else:
            category = np.where(has_buyer, "participant", "retail")
        # money and figures of the buyer
        buyers, btot = b.buyer[has_buyer], total[has_buyer]
        np.add.at(self.paid_orders, buyers, btot)
        np.add.at(self.cum_spend, buyers, btot)
        if purchase:
            np.add.at(self.cum_purchase, buyers, btot)
            np.maximum.at(self.max_single, buyers, b.amount[has_buyer])
            for acc in self.periods.values():
                np.add.at(acc["purchase"], buyers, btot)
                if b.kind != "restock":
                    np.add.at(acc["purchase_rec"], buyers, btot)
            if b.kind != "restock":
                np.add.at(self.rec_funded, buyers, btot)
            self._month_acc["purchases"] += int(btot.sum())
            self._month_acc[f"purchases_{b.kind}"] += int(btot.sum())
            new = self.joined[buyers] >= month - 2
            self._month_acc["purchases_new_entrants"] += int(btot[new].sum())
        else:
            self._month_acc["own_retail"] += int(btot.sum())
        if b.kind == "entry":
            np.add.at(self.entry_paid, buyers, btot)
        # the seller, or the company
        sellers, stot = b.seller[has_seller], total[has_seller]
        if b.kind == "retail":
            np.add.at(self.sales_retail, sellers, stot)
            self._month_acc["agent_retail"] += int(stot[b.buyer[has_seller] < 0].sum())
        else:
            np.add.at(self.sales_wholesale, sellers, stot)
            self._month_acc["wholesale"] += int(stot.sum())
        company_total = int(total[~has_seller].sum())
        self.brand["collected"] += company_total
        self._month_acc["collected"] += company_total
        if b.kind == "retail":
            customer = ~has_buyer
            self.customers_paid += int(total[customer].sum())
            self._month_acc["customer_retail"] += int(total[customer].sum())
            credit = np.where(b.bound >= 0, b.bound, b.seller)
            has_credit = credit >= 0
            cr, ctot = credit[has_credit], total[has_credit]
            np.add.at(self.cum_retail, cr, ctot)
            for acc in self.periods.values():
                np.add.at(acc["retail"], cr, ctot)
                np.add.at(acc["retail_cust"], cr, ctot * (b.buyer[has_credit] < 0))
        # margin: the seller's, paid by the buyer
        if has_seller.any():
            margin = (b.amount - seller_cost)[has_seller]
            mtot = margin * b.count[has_seller]
            np.add.at(self.recv_margin, sellers, mtot)
            np.add.at(self.recv_rule["margin"], sellers, mtot)
            self.rule_totals["margin"] += int(mtot.sum())
            cat = category if isinstance(category, str) else category[has_seller]
            self._fund("margins", mtot, cat, None, np.ones(len(mtot), dtype=bool))
        # rewards on the order
        if purchase:
            self._referral_purchase(b, month, category)
        if b.kind == "retail":
            self._retail_commission(b, category)
        if purchase or (b.kind == "retail" and c.social_mall):
            self._rebate(b, category)
        if self.record:
            for i in range(len(b.buyer)):
                for _ in range(int(b.count[i])):
                    self.log.append(
                        (
                            "order",
                            f"{b.kind[0].upper()}{month}-{self._next_id()}",
                            b.kind,
                            int(b.buyer[i]),
                            int(b.seller[i]),
                            int(b.bound[i]),
                            int(b.amount[i]),
                            int(seller_cost[i]) if b.seller[i] >= 0 else None,
                            int(b.units[i]),
                            month,
                            b.phase,
                            b.sku,
                        )
                    )

    def _referral_purchase(self, b: Batch, month: int, category: Category) -> None:
        c = self.c
        for rule in c.referral:
            if rule.per_head:
                continue
            sel = b.buyer >= 0
            if rule.window_days is not None:
                ok = self._window_ok(month, b.phase, rule.window_days)
                sel &= ok[self.joined[np.maximum(b.buyer, 0)]]
            if not sel.any():
                continue
            buyer = b.buyer[sel]
            seller = b.seller[sel]
            amount, count = b.amount[sel], b.count[sel]
            cat = category if isinstance(category, str) else category[sel]
            payer = np.where(seller >= 0, seller, -1) if rule.payer_upline else np.full(len(buyer), -1)
            buyer_rank = self.rank[buyer]
            ben = buyer
            for g, num in enumerate(rule.nums, start=1):
                ben = self._up(ben)
                has = ben >= 0
                safe = np.maximum(ben, 0)
                ok = has & self._level_ok(rule.test, buyer_rank, self.rank[safe]) & self.active[safe] & (payer != ben)
                if ok.any():
                    line = round_div(amount[ok] * num, rule.den, c.rounding)
                    self._pay(ben[ok], line, count[ok], rule.id, payer[ok], cat if isinstance(cat, str) else cat[ok], g)

    def _retail_commission(self, b: Batch, category: Category) -> None:
        c = self.c
        for rule in c.retail_rules:
            sel = b.bound >= 0
            if not sel.any():
                continue
            bound, buyer = b.bound[sel], b.buyer[sel]
            amount, count = b.amount[sel], b.count[sel]
            cat = category[sel] if not isinstance(category, str) else category
            ben = bound
            for g in range(rule.generations):
                if g > 0:
                    ben = self._up(ben)
                has = ben >= 0
                safe = np.maximum(ben, 0)
                lvl = self.rank[safe]
                ok = has & self.active[safe] & rule.valid[g, lvl]
                if g == 0:
                    ok &= buyer != ben
                if ok.any():
                    line = round_div(amount[ok] * rule.nums[g, lvl[ok]], rule.den, c.rounding)
                    self._pay(ben[ok], line, count[ok], rule.id, None, cat if isinstance(cat, str) else cat[ok], g)

    def _rebate(self, b: Batch, category: Category) -> None:
        c = self.c
        for rule in c.rebates:
            sel = b.buyer >= 0
            buyer = b.buyer[sel]
            lvl = self.rank[buyer]
            ok = self.active[buyer] & rule.valid[lvl]
            if not ok.any():
                continue
            cat = category if isinstance(category, str) else category[sel][ok]
            line = round_div(b.amount[sel][ok] * rule.nums[lvl[ok]], rule.den, c.rounding)
            self._pay(buyer[ok], line, b.count[sel][ok], rule.id, None, cat, 0)

    # -- the month -------------------------------------------------------------------------

    def step(self, month: int) -> None:
        self.c = self.overlays.get(month, self.base)
        self._month_acc = defaultdict(int)
        self._team_cache: dict[str, np.ndarray] = {}
        slot = (month - 1) % self.W
        self.ring_u1[slot, : self.n] = 0
        self.ring_u2[slot, : self.n] = 0
        self.u_month_out[: self.n] = 0
        self.u_demand[: self.n] = 0
        for campaign in self.campaigns.get(month, ()):
            self.brand["campaigns"] += int(campaign.cost * 100)
            self._month_acc["campaigns"] += int(campaign.cost * 100)
        joiners = self._recruit(month)
        self._buy(month, joiners)
        self._retail(month)
        self._upgrade(month)
        self._attrition(month)
        self._close_periods(month)
        self._update_expectations()
        self._record_month(month, joiners)

    def _recruit(self, month: int) -> np.ndarray:
        s, c = self.s, self.c
        first = self.n
        if month == 1:
            levels = []
            for code in c.codes:
                levels += [c.codes.index(code)] * int(s.founders.get(code, 0))
            k = len(levels)
            self._grow(self.n + k)
            idx = np.arange(self.n, self.n + k)
            self.n += k
            self.ever_joined += k
            self.founder[idx] = True
            self._add_agents(idx, np.full(k, -1), np.array(levels, dtype=np.int64), month)
        n = self.n
        pool = np.flatnonzero(self.active[:n] & ((self.joined[:n] < month) | self.founder[:n]))
        remaining = self.market_size - self.ever_joined
        extra = sum((float(cp.extra_join_probability) for cp in self.campaigns.get(month, ())), 0.0)
        p = min(1.0, (float(s.recruitment.join_probability) + extra) * max(remaining, 0) / self.market_size)
        contacts = s.recruitment.contacts_per_agent_month
        whole = int(contacts)
        part = float(contacts - whole)
        if len(pool) and p > 0 and remaining > 0:
            joins = self.rng.binomial(whole, p, size=len(pool)) if whole else np.zeros(len(pool), dtype=np.int64)
            if part > 0:
                joins = joins + ((self.rng.random(len(pool)) < part) & (self.rng.random(len(pool)) < p))
            referrers = np.repeat(pool, joins)
            if len(referrers) > remaining:
                keep = np.sort(self.rng.choice(len(referrers), size=remaining, replace=False))
                referrers = referrers[keep]
            m = len(referrers)
            if m:
                self._grow(self.n + m)
                idx = np.arange(self.n, self.n + m)
                self.n += m
                self.ever_joined += m
                new_levels = self.mix_levels[self.rng.choice(len(self.mix_levels), size=m, p=self.mix_p)]
                self._add_agents(idx, referrers, new_levels, month)
        if self.saturation_month is None and self.ever_joined * 2 >= self.market_size:
            self.saturation_month = month
        return np.arange(first, self.n)

    def _add_agents(self, idx: np.ndarray, referrers: np.ndarray, levels: np.ndarray, month: int) -> None:
        k = len(idx)
        self.ref[idx] = referrers
        self.rank[idx] = levels
        self.join_rank[idx] = levels
        self.active[idx] = True
        self.joined[idx] = month
        has_ref = referrers >= 0
        self.depth[idx] = np.where(has_ref, self.depth[np.maximum(referrers, 0)] + 1, 1)
        self.sup[idx] = self._resolve(referrers, levels)
        ability = (
            self.rng.normal(self.cust_mean, self.cust_sd, size=k) if self.cust_sd > 0 else np.full(k, self.cust_mean)
        )
        self.ability[idx] = np.maximum(ability, 0.0)
        share = max(self.market_size - self.ever_joined, 0) / self.market_size
        self.exp_out[idx] = self.cust_mean * share * self.upc + self.own_use
        refs = referrers[has_ref]
        np.add.at(self.direct, refs, 1)
        np.add.at(self.cnt, (refs, levels[has_ref]), 1)
        for acc in self.periods.values():
            np.add.at(acc["newref"], refs, 1)
        self._depth_cache = None
        # AgentJoined: per-head referral rewards
        for rule in self.c.referral:
            if not rule.per_head:
                continue
            payer = self.sup[idx].astype(np.int64) if rule.payer_upline else np.full(k, -1)
            ben = idx
            for g, amount in enumerate(rule.amounts, start=1):
                ben = self._up(ben)
                safe = np.maximum(ben, 0)
                ok = (
                    (ben >= 0) & self._level_ok(rule.test, levels, self.rank[safe]) & self.active[safe] & (payer != ben)
                )
                if ok.any():
                    self._pay(
                        ben[ok],
                        np.full(int(ok.sum()), amount, dtype=np.int64),
                        np.ones(int(ok.sum()), dtype=np.int64),
                        rule.id,
                        payer[ok],
                        "recruitment",
                        g,
                    )
        if self.record:
            for i in idx:
                self.log.append(
                    ("join", int(i), self.c.codes[int(self.rank[i])], int(self.ref[i]), int(self.sup[i]), month)
                )

    def _seller_of(self, buyers: np.ndarray) -> np.ndarray:
        if self.c.upline_supply:
            return self.sup[buyers].astype(np.int64)
        return np.full(len(buyers), -1, dtype=np.int64)

    def _fill(
        self,
        kind: str,
        phase: str,
        month: int,
        buyers: np.ndarray,
        units: np.ndarray,
        price_rank: np.ndarray,
        sellers: np.ndarray,
        *,
        to_stock: bool = True,
        slot2: bool = False,
        gift: bool = False,
        qualification: np.ndarray | None = None,
    ) -> None:
        """Orders of agents filled by their sellers (or the company): stock, units, lots, money, rewards."""
        if not len(buyers):
            return
        c = self.c
        if gift:
            amount = c.gift_price[price_rank]
            seller_cost = np.where(sellers >= 0, c.gift_price[self.rank[np.maximum(sellers, 0)]], 0)
        else:
            amount = units * c.price[price_rank]
            seller_cost = np.where(sellers >= 0, units * c.price[self.rank[np.maximum(sellers, 0)]], 0)
        ones = np.ones(len(buyers), dtype=np.int64)
        if gift:
            np.add.at(self.u_packs, buyers, 1)
            self.units["packs"] += len(buyers)
        else:
            company = sellers < 0
            self.units["company_to_agents"] += int(units[company].sum())
            np.add.at(self.u_bought_company, buyers[company], units[company])
            np.add.at(self.u_bought_agents, buyers[~company], units[~company])
            np.add.at(self.u_sold_agents, sellers[~company], units[~company])
            np.subtract.at(self.stock, sellers[~company], units[~company])
            np.add.at(self.u_month_out, sellers[~company], units[~company])
            self.units["agents_to_agents"] += int(units[~company].sum())
            self._month_acc["units_company_to_agents"] += int(units[company].sum())
            self._month_acc["units_shipped"] += int(units[company].sum())
            if to_stock:
                np.add.at(self.stock, buyers, units)
                slot = (month - 1) % self.W
                if slot2:
                    np.add.at(self.ring_u2[slot], buyers, units.astype(np.int32))
                    self.ring_r2[slot, buyers] = price_rank
                else:
                    np.add.at(self.ring_u1[slot], buyers, units.astype(np.int32))
                    self.ring_r1[slot, buyers] = price_rank
        if qualification is not None:
            q_amount = qualification * c.price[price_rank]
            np.add.at(self.qual_amount, buyers, q_amount)
            self._month_acc["qualification"] += int(q_amount.sum())
            self._month_acc["qualification_units"] += int(qualification.sum())
        batch = Batch(
            kind,
            buyers.astype(np.int64),
            sellers.astype(np.int64),
            np.full(len(buyers), -1),
            amount.astype(np.int64),
            ones,
            units.astype(np.int64),
            phase,
            "pack" if gift else "unit",
        )
        self._orders(batch, month, seller_cost.astype(np.int64))

    def _qualification_extra(
        self, idx: np.ndarray, policy_amount: np.ndarray, month: int, spend_only: bool = False
    ) -> np.ndarray:
        """Extra yuan (fen) each agent buys to reach an upgrade or award threshold within reach."""
        c = self.c
        extra = np.full(len(idx), -1, dtype=np.int64)  # -1: nothing within reach
        rank = self.rank[idx]
        reach_num, reach_den = frac(self.reach)
        best_to = np.full(len(idx), 99, dtype=np.int64)
        for rule in c.upgrades:
            above = rule.to < rank
            if not above.any():
                continue
            met_other = np.zeros(len(idx), dtype=bool) if rule.mode == "any" else np.ones(len(idx), dtype=bool)
            needs: list[np.ndarray] = []
            for cond in rule.conditions:
                if cond.key in PURCHASE_CONDITIONS and not (spend_only and cond.key != "cumulative_spend"):
                    if cond.key == "cumulative_purchase":
                        need = cond.value - self.cum_purchase[idx] - policy_amount
                    elif cond.key == "cumulative_spend":
                        need = cond.value - self.cum_spend[idx] - policy_amount
                    else:
                        need = cond.value - policy_amount
                    need = np.maximum(need, 0)
                    within = need * reach_den <= cond.value * reach_num
                    needs.append(np.where(within, need, -1))
                else:
                    met = self._condition(cond, idx, rule)
                    met_other = (met_other | met) if rule.mode == "any" else (met_other & met)
            if not needs:
                continue
            stacked = np.stack(needs)
            if rule.mode == "any":
                feasible = np.where(stacked >= 0, stacked, np.iinfo(np.int64).max).min(axis=0)
                rule_extra = np.where(met_other, -1, np.where(feasible == np.iinfo(np.int64).max, -1, feasible))
            else:
                ok = met_other & (stacked >= 0).all(axis=0)
                rule_extra = np.where(ok, stacked.max(axis=0), -1)
            better = above & (rule_extra >= 0) & (rule.to < best_to)
            best_to = np.where(better, rule.to, best_to)
            extra = np.where(better, rule_extra, extra)
        # target awards on personal purchases, in the period's last month
        if not spend_only:
            for award in c.awards:
                if award.metric != "personal_purchase" or not self._period_ends(month, award.period):
                    continue
                so_far = self.periods[award.period]["purchase"][idx]
                need = np.maximum(award.threshold - so_far - policy_amount, 0)
                within = (need * reach_den <= award.threshold * reach_num) & (so_far + policy_amount > 0)
                extra = np.where(within, np.maximum(extra, need), extra)
        return np.maximum(extra, 0)

    def _buy(self, month: int, joiners: np.ndarray) -> None:
        """Entry orders and restocking, levels lowest first (a supplier buys before it fills)."""
        c = self.c
        tm = self.target_months
        buy_up = self.s.restock_policy.buy_to_upgrade
        for r in range(self.L - 1, -1, -1):
            # entry: the order, or the gift pack, of this month's recruits at level r
            new = joiners[self.rank[joiners] == r]
            if len(new):
                if c.entry_order[r] > 0:
                    units = np.full(len(new), -(-int(c.entry_order[r]) // int(c.price[r])), dtype=np.int64)
                    self._fill("entry", "entry", month, new, units, np.full(len(new), r), self._seller_of(new))
                elif c.gift_pack[r]:
                    self._fill(
                        "entry",
                        "entry",
                        month,
                        new,
                        np.ones(len(new), dtype=np.int64),
                        np.full(len(new), r),
                        self._seller_of(new),
                        to_stock=False,
                        gift=True,
                    )
            if not self.holds_stock:
                self._cover_shortfalls(month, r, "restock")
                if buy_up:  # a member buys at retail, for themself, to reach a spending threshold
                    idx = np.flatnonzero(self.active[: self.n] & (self.rank[: self.n] == r))
                    extra = self._qualification_extra(idx, np.zeros(len(idx), dtype=np.int64), month, spend_only=True)
                    units = -(-extra // c.retail)
                    got = units > 0
                    if got.any():
                        self._own_retail(
                            month, idx[got], units[got], to_stock=True, phase="restock", qualification=True
                        )
                continue
            idx = np.flatnonzero(self.active[: self.n] & (self.rank[: self.n] == r))
            if not len(idx):
                continue
            target = np.ceil(tm * self.exp_out[idx]).astype(np.int64)
            stock = self.stock[idx]
            q = target - stock
            q = np.where(q > 0, np.maximum(q, c.min_qty[r]), 0)
            qual = np.zeros(len(idx), dtype=np.int64)
            if buy_up:
                extra = self._qualification_extra(idx, q * c.price[r], month)
                extra_units = -(-extra // c.price[r])
                with_extra = np.where(
                    q > 0, q + extra_units, np.where(extra_units > 0, np.maximum(extra_units, c.min_qty[r]), 0)
                )
                qual = with_extra - q
                q = with_extra
            buy = q > 0
            if buy.any():
                self._fill(
                    "restock",
                    "restock",
                    month,
                    idx[buy],
                    q[buy],
                    np.full(int(buy.sum()), r),
                    self._seller_of(idx[buy]),
                    qualification=qual[buy],
                )

    def _cover_shortfalls(self, month: int, r: int, phase: str) -> None:
        """Agents at level ``r`` who filled more than they held buy the difference (at least their minimum)."""
        if not self.c.upline_supply:
            return
        short = np.flatnonzero(self.active[: self.n] & (self.rank[: self.n] == r) & (self.stock[: self.n] < 0))
        if len(short):
            q = np.maximum(-self.stock[short], self.c.min_qty[r])
            self._fill("restock", phase, month, short, q, np.full(len(short), r), self._seller_of(short))

    def _own_retail(
        self, month: int, idx: np.ndarray, units: np.ndarray, *, to_stock: bool, phase: str, qualification: bool = False
    ) -> None:
        """Members' own retail orders at retail price (social mall): the company ships, bound to themself."""
        c = self.c
        amount = units * c.retail
        self.units["company_to_members"] += int(units.sum())
        self._month_acc["units_shipped"] += int(units.sum())
        np.add.at(self.u_bought_company, idx, units)
        if to_stock:
            np.add.at(self.stock, idx, units)
        if qualification:
            np.add.at(self.qual_amount, idx, amount)
            self._month_acc["qualification"] += int(amount.sum())
            self._month_acc["qualification_units"] += int(units.sum())
        batch = Batch(
            "retail",
            idx.astype(np.int64),
            np.full(len(idx), -1),
            idx.astype(np.int64),
            amount.astype(np.int64),
            np.ones(len(idx), dtype=np.int64),
            units.astype(np.int64),
            phase,
        )
        self._orders(batch, month, np.zeros(len(idx), dtype=np.int64))

    def _retail(self, month: int) -> None:
        c = self.c
        idx = np.flatnonzero(self.active[: self.n])
        if not len(idx):
            return
        share = max(self.market_size - self.ever_joined, 0) / self.market_size
        boost = 1.0 + sum((float(cp.retail_boost) for cp in self.campaigns.get(month, ())), 0.0)
        customers = self.rng.poisson(self.ability[idx] * share * boost)
        self.u_demand[idx] = customers * self.upc
        if self.holds_stock:
            served = np.minimum(customers, self.stock[idx] // self.upc)
            self._month_acc["unmet_units"] += int(((customers - served) * self.upc).sum())
            got = served > 0
            sellers = idx[got]
            units = np.full(len(sellers), self.upc, dtype=np.int64)
            sold = served[got] * self.upc
            self.stock[sellers] -= sold
            self.u_sold_retail[sellers] += sold
            self.units["sold_retail"] += int(sold.sum())
            self._month_acc["units_retail"] += int(sold.sum())
            batch = Batch(
                "retail",
                np.full(len(sellers), -1),
                sellers.astype(np.int64),
                sellers.astype(np.int64),
                np.full(len(sellers), self.upc * c.retail, dtype=np.int64),
                served[got].astype(np.int64),
                units,
                "retail",
            )
            self._orders(batch, month, units * c.price[self.rank[sellers]])
            # own use, from the agent's own stock
            used = np.minimum(self.stock[idx], self.own_use)
            self.stock[idx] -= used
            self.u_used[idx] += used
            self.own_use_value[idx] += used * c.price[self.rank[idx]]
            self.units["used"] += int(used.sum())
            self._month_acc["units_used"] += int(used.sum())
        else:
            got = customers > 0
            members = idx[got]
            units = np.full(len(members), self.upc, dtype=np.int64)
            self.units["company_to_customers"] += int((customers[got] * self.upc).sum())
            self._month_acc["units_retail"] += int((customers[got] * self.upc).sum())
            self._month_acc["units_company_retail"] += int((customers[got] * self.upc).sum())
            self._month_acc["units_shipped"] += int((customers[got] * self.upc).sum())
            batch = Batch(
                "retail",
                np.full(len(members), -1),
                np.full(len(members), -1),
                members.astype(np.int64),
                np.full(len(members), self.upc * c.retail, dtype=np.int64),
                customers[got].astype(np.int64),
                units,
                "retail",
            )
            self._orders(batch, month, np.zeros(len(members), dtype=np.int64))
            if self.own_use:
                from_stock = np.minimum(self.stock[idx], self.own_use)
                self.stock[idx] -= from_stock
                buy = self.own_use - from_stock
                has = buy > 0
                if has.any():
                    self._own_retail(month, idx[has], buy[has], to_stock=False, phase="own_use")
                self.u_used[idx] += self.own_use
                self.own_use_value[idx] += self.own_use * c.retail
                self.units["used"] += int(self.own_use * len(idx))
                self._month_acc["units_used"] += int(self.own_use * len(idx))

    # -- upgrades --------------------------------------------------------------------------

    def _period_ends(self, month: int, period: str) -> bool:
        d = month_date(self.start, month)
        if period == "month":
            return True
        if period == "quarter":
            return d.month % 3 == 0
        return d.month == 12

    def _team_period(self, period: str) -> np.ndarray:
        cache = self._team_cache
        if period not in cache:
            cache[period] = self.team_sum(self.periods[period]["purchase"])
        return cache[period]

    def _condition(self, cond: Condition, idx: np.ndarray, rule: UpgradeRule) -> np.ndarray:
        rank = self.rank[idx]
        if cond.key == "cumulative_purchase":
            return self.cum_purchase[idx] >= cond.value
        if cond.key == "single_order_amount":
            return self.max_single[idx] >= cond.value
        if cond.key == "cumulative_spend":
            return self.cum_spend[idx] >= cond.value
        if cond.key == "retail_sales":
            return self.cum_retail[idx] >= cond.value
        if cond.key == "direct_referrals":
            return self.direct[idx] >= cond.value
        if cond.key == "same_level_referrals":
            return (self.cnt[idx, rank] >= cond.value) & (rule.to == rank - 1)
        if cond.key == "team_volume":
            assert cond.period is not None  # team_volume has a period
            return self._team_period(cond.period)[idx] >= cond.value
        raise AssertionError(cond.key)

    def decide_upgrades(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(target level, rule index, top-up fen) for each agent in ``idx``; target -1 = no upgrade."""
        c = self.c
        rank = self.rank[idx].astype(np.int64)
        best = np.full(len(idx), -1, dtype=np.int64)
        best_rule = np.full(len(idx), -1, dtype=np.int64)
        topup = np.zeros(len(idx), dtype=np.int64)
        for rule in c.upgrades:
            current_best = np.where(best >= 0, best, rank)
            eligible = rule.to < current_best
            if not eligible.any():
                continue
            met: np.ndarray | None = None
            for cond in rule.conditions:
                m = self._condition(cond, idx, rule)
                met = m if met is None else ((met | m) if rule.mode == "any" else (met & m))
            win = eligible if met is None else eligible & met  # (a rule has at least one condition)
            best = np.where(win, rule.to, best)
            best_rule = np.where(win, rule.index, best_rule)
            if rule.top_up:
                due = np.maximum(c.entry_amount[rule.to] - c.entry_amount[rank], 0)
            else:
                due = np.zeros(len(idx), dtype=np.int64)
            topup = np.where(win, due, topup)
        return best, best_rule, topup

    def _upgrade(self, month: int) -> None:
        c = self.c
        self._team_cache = {}
        if not c.upgrades:
            return
        idx = np.flatnonzero(self.active[: self.n])
        best, _rule, topup = self.decide_upgrades(idx)
        up = best >= 0
        agents, targets, topups = idx[up], best[up], topup[up]
        if self.record:
            self.log.append(
                (
                    "upgrade_check",
                    month,
                    {int(a): (c.codes[int(t)], int(f)) for a, t, f in zip(agents, targets, topups, strict=True)},
                )
            )
        if not len(agents):
            return
        # upgrade orders (top-ups) and the restocks of suppliers short of stock, levels lowest first
        pay = topups > 0
        units_all = np.where(pay, -(-topups // c.price[targets]), 0)
        order_sellers = np.full(len(agents), -1, dtype=np.int64)
        if c.upline_supply:
            order_sellers = self._resolve(self.sup[agents], targets.astype(np.int16)).astype(np.int64)
        for r in range(self.L - 1, -1, -1):
            at_r = pay & (self.rank[agents] == r)
            if at_r.any():
                self._fill(
                    "upgrade",
                    "upgrade",
                    month,
                    agents[at_r],
                    units_all[at_r],
                    targets[at_r],
                    order_sellers[at_r],
                    slot2=True,
                )
            self._cover_shortfalls(month, r, "forced")
        # the level changes (AgentUpgraded), then the supplier rule
        old = self.rank[agents].copy()
        refs = self.ref[agents]
        has_ref = refs >= 0
        np.subtract.at(self.cnt, (refs[has_ref], old[has_ref]), 1)
        np.add.at(self.cnt, (refs[has_ref], targets[has_ref]), 1)
        self.rank[agents] = targets
        self._month_acc["upgrades"] += len(agents)
        sup = self.sup[agents]
        broken = (sup >= 0) & (self.rank[np.maximum(sup, 0)] >= targets)
        if broken.any():
            self.sup[agents[broken]] = self._resolve(sup[broken], targets[broken].astype(np.int16))
        if self.record:
            for a, o, t in zip(agents, old, targets, strict=True):
                self.log.append(("level", int(a), c.codes[int(o)], c.codes[int(t)], month))

    # -- attrition -----------------------------------------------------------------------

    def position(self, idx: np.ndarray) -> np.ndarray:
        """Cash in − cash out + prizes in kind + own use at cost (fen): the agent's result so far, before stock."""
        return (
            self.sales_retail[idx]
            + self.sales_wholesale[idx]
            + self.recv_reward[idx]
            + self.recv_prize_cash[idx]
            + self.recv_buyback[idx]
            + self.recv_prize_kind[idx]
            + self.own_use_value[idx]
            - self.paid_orders[idx]
            - self.paid_upline[idx]
        )

    def lot_value(self, idx: np.ndarray, month: int) -> tuple[np.ndarray, np.ndarray]:
        """(value within the buyback window, value of all held stock) at the price paid, FIFO (the units
        held are the latest bought); units older than the ring are valued at the agent's level price."""
        c = self.c
        remaining = np.maximum(self.stock[idx], 0)
        inside = np.zeros(len(idx), dtype=np.int64)
        total = np.zeros(len(idx), dtype=np.int64)
        for back in range(self.W):
            j = month - back
            if j < 1:
                break
            slot = (j - 1) % self.W
            included = c.returns_window is not None and self._included(month, j)
            for units_arr, rank_arr in ((self.ring_u2, self.ring_r2), (self.ring_u1, self.ring_r1)):
                units = units_arr[slot, idx].astype(np.int64)
                take = np.minimum(remaining, units)
                value = take * c.price[rank_arr[slot, idx]]
                total += value
                if included:
                    inside += value
                remaining -= take
        total += remaining * c.price[self.rank[idx]]
        return inside, total

    def _attrition(self, month: int) -> None:
        c = self.c
        s = self.s.attrition
        idx = np.flatnonzero(self.active[: self.n] & (self.joined[: self.n] < month))
        if not len(idx):
            return
        base, sens = float(s.base_monthly), float(s.loss_sensitivity)
        position = self.position(idx)
        if c.returns_window is not None:
            position = position + self.stock[idx] * c.price[self.rank[idx]] * c.returns_num // c.returns_den
        paid = np.maximum(self.paid_orders[idx] + self.paid_upline[idx], 1)
        loss = np.clip(-position / paid, 0.0, 1.0)
        p = base + (1.0 - base) * np.minimum(1.0, sens * loss)
        quit_ = self.rng.random(len(idx)) < p
        leaving = idx[quit_]
        if not len(leaving):
            return
        self.active[leaving] = False
        self.exit_month[leaving] = month
        self._month_acc["exits"] += len(leaving)
        inside, total = self.lot_value(leaving, month)
        held = self.stock[leaving].copy()
        if c.returns_window is not None:
            buyback = round_div(inside * c.returns_num, c.returns_den, c.rounding)
        else:
            buyback = np.zeros(len(leaving), dtype=np.int64)
        paid_back = buyback > 0
        self.recv_buyback[leaving] += buyback
        self.recv_rule["returns"][leaving] += buyback
        self.rule_totals["returns"] += int(buyback.sum())
        self.brand["buyback"] += int(buyback.sum())
        self._month_acc["buyback"] += int(buyback.sum())
        # with a buyback line the brand takes the stock back; otherwise it is stranded with the agent
        back = leaving[paid_back]
        self.u_returned[back] = self.stock[back]
        self.units["returned"] += int(self.stock[back].sum())
        self.stock[back] = 0
        stranded = leaving[~paid_back]
        self.u_stranded[stranded] = self.stock[stranded]
        self.stranded_value[leaving[~paid_back]] = total[~paid_back]
        self.units["stranded"] += int(self.stock[stranded].sum())
        self._month_acc["units_stranded"] += int(held.sum())
        if self.record:
            for a, h in zip(leaving, held, strict=True):
                self.log.append(("exit", int(a), month, int(h)))
        # agents they supplied move to the next higher upline
        n = self.n
        gone = np.zeros(n, dtype=bool)
        gone[leaving] = True
        supplied = np.flatnonzero((self.sup[:n] >= 0) & gone[np.maximum(self.sup[:n], 0)])
        if len(supplied):
            self.sup[supplied] = self._resolve(self.sup[self.sup[supplied]], self.rank[supplied])

    # -- settlement ----------------------------------------------------------------------

    def _close_periods(self, month: int) -> None:
        c = self.c
        day = month_date(self.start, month)
        for period in ("month", "quarter", "year"):
            if not self._period_ends(month, period):
                continue
            start, end = period_bounds(period, day)
            teams = [t for t in c.teams if t.period == period]
            awards = [a for a in c.awards if a.period == period]
            if self.record and (teams or awards):
                self.log.append(("close", period, start, end, month))
            if period not in self.periods:
                continue
            acc = self.periods[period]
            n = self.n
            team_cache: dict[str, np.ndarray] = {}

            def team(
                metric: str,
                acc: dict[str, np.ndarray] = acc,
                n: int = n,
                team_cache: dict[str, np.ndarray] = team_cache,
            ) -> np.ndarray:
                if metric not in team_cache:
                    if metric == "team_purchase":
                        stacked = np.stack([acc["purchase"][:n], acc["purchase_rec"][:n]], axis=1)
                    else:
                        stacked = np.stack([acc["retail"][:n], acc["retail_cust"][:n]], axis=1)
                    team_cache[metric] = self.team_sum(stacked)
                return team_cache[metric]

            for rule in teams:
                vol = team(rule.metric)
                V, part = vol[:, 0], vol[:, 1]
                step = np.searchsorted(rule.from_fen, V, side="right") - 1
                has = (V != 0) & (step >= 0)
                rate = np.where(step >= 0, rule.nums[np.maximum(step, 0)], 0)
                own = np.where(has, rate * V, 0)
                full = own.copy()
                if rule.differential:
                    sub = np.zeros(n, dtype=np.int64)
                    kids = np.flatnonzero(self.ref[:n] >= 0)
                    np.add.at(sub, self.ref[kids], own[kids])
                    full = np.maximum(own - sub, 0)
                pay = has & self.active[:n]
                who = np.flatnonzero(pay)
                line = round_div(full[who], rule.den, c.rounding)
                split: Split
                if rule.metric == "team_purchase":
                    split = (part[who], V[who])
                else:
                    split = (np.zeros(len(who), dtype=np.int64), V[who], part[who])
                self._pay(who, line, np.ones(len(who), dtype=np.int64), rule.id, None, "participant", 0, split=split)
                paid = who[line > 0]
                if len(paid):
                    self._paid_team_depth(paid, acc, rule.metric)
            for award in awards:
                award_part: np.ndarray | None
                base: np.ndarray | None
                if award.metric == "personal_purchase":
                    fig, award_part, base = acc["purchase"][:n], acc["purchase_rec"][:n], acc["purchase"][:n]
                elif award.metric == "personal_retail":
                    fig, award_part, base = acc["retail"][:n], None, acc["retail"][:n]
                elif award.metric == "team_purchase":
                    vol = team("team_purchase")
                    fig, award_part, base = vol[:, 0], vol[:, 1], vol[:, 0]
                else:
                    fig, award_part, base = acc["newref"][:n], None, None
                win = np.flatnonzero((fig != 0) & (fig >= award.threshold) & self.active[:n])
                if not len(win):
                    continue
                value = np.full(len(win), award.value, dtype=np.int64)
                ones = np.ones(len(win), dtype=np.int64)
                np.add.at(self.recv_rule[award.id], win, value)
                self.rule_totals[award.id] += int(value.sum())
                if award.cash:
                    self.recv_prize_cash[win] += value
                    self.brand["prize_cash"] += int(value.sum())
                else:
                    self.recv_prize_kind[win] += value
                    self.brand["prize_kind"] += int(value.sum())
                self._month_acc["prizes"] += int(value.sum())
                keep = ones.astype(bool)
                if award.metric == "new_referrals":
                    self._fund("rewards", value, "recruitment", None, keep)
                elif award.metric == "personal_retail":
                    cust = acc["retail_cust"][:n][win]
                    assert base is not None  # personal_retail has a base
                    self._fund("rewards", value, None, (np.zeros(len(win), dtype=np.int64), base[win], cust), keep)
                else:
                    assert award_part is not None and base is not None  # purchase volumes have both
                    self._fund("rewards", value, None, (award_part[win], base[win]), keep)
            for arr in acc.values():
                arr[:] = 0

    def _paid_team_depth(self, paid: np.ndarray, acc: dict[str, npt.NDArray[np.int64]], metric: str) -> None:
        n = self.n
        figure = acc["purchase"][:n] if metric == "team_purchase" else acc["retail"][:n]
        deepest = np.where(figure != 0, self.depth[:n], 0).astype(np.int64)
        deepest = self.team_max(deepest)
        gens = deepest[paid] - self.depth[paid]
        if len(gens):
            self.paid_depth = max(self.paid_depth, int(gens.max()))

    # -- bookkeeping ---------------------------------------------------------------------

    def _update_expectations(self) -> None:
        """Expected monthly outflow = customers' demand + own use + units supplied to the downline (smoothed)."""
        n = self.n
        live = self.active[:n]
        used = self.own_use if self.holds_stock else 0
        observed = (self.u_demand[:n] + used + self.u_month_out[:n]).astype(np.float64)
        self.exp_out[:n] = np.where(live, SMOOTHING * self.exp_out[:n] + (1 - SMOOTHING) * observed, self.exp_out[:n])

    def _record_month(self, month: int, joiners: np.ndarray) -> None:
        c = self.c
        n = self.n
        live = self.active[:n]
        acc = self._month_acc
        by_level = np.bincount(self.rank[:n][live], minlength=self.L)
        inventory = int(self.stock[:n][live].sum())
        end_users = acc["units_retail"] + acc["units_used"]
        row: dict[str, Any] = {
            "month": month,
            "label": period_label("month", month_date(self.start, month)),
            "active_by_level": [int(x) for x in by_level],
            "active": int(live.sum()),
            "joins": len(joiners),
            "exits": acc["exits"],
            "upgrades": acc["upgrades"],
            "ever_joined": self.ever_joined,
            "market_reached": self.ever_joined / self.market_size,
            "collected": acc["collected"],
            "rewards": acc["rewards"],
            "prizes": acc["prizes"],
            "buyback": acc["buyback"],
            "campaigns": acc["campaigns"],
            "goods_cost": acc["units_shipped"] * c.unit_cost,
            "purchases": acc["purchases"],
            "purchases_entry": acc["purchases_entry"] + acc["purchases_upgrade"],
            "purchases_restock": acc["purchases_restock"],
            "purchases_new_entrants": acc["purchases_new_entrants"],
            "own_retail": acc["own_retail"],
            "customer_retail": acc["customer_retail"],
            "agent_retail": acc["agent_retail"],
            "wholesale": acc["wholesale"],
            "qualification": acc["qualification"],
            "qualification_units": acc["qualification_units"],
            "units_retail": acc["units_retail"],
            "units_used": acc["units_used"],
            "units_company_to_agents": acc["units_company_to_agents"],
            "units_unmet": acc["unmet_units"],
            "units_stranded": acc["units_stranded"],
            "inventory": inventory,
            "end_user_units": end_users,
            "company_rewards": acc["company_rewards"],
            "retail_funded_rewards": acc["fund_rewards_retail"],
            "recruitment_funded_rewards": acc["fund_rewards_recruitment"],
        }
        self.brand["goods"] += row["goods_cost"]
        row["brand_cash_flow"] = (
            row["collected"]
            - acc["company_rewards"]
            - row["prizes"]
            - row["buyback"]
            - row["campaigns"]
            - row["goods_cost"]
        )
        self.monthly.append(row)
        self.conservation.append(self.check_conservation(month))

    def check_conservation(self, month: int) -> dict[str, Any]:
        """Money paid in = paid out + held; units the company shipped = sold + used + held + stranded + returned."""
        n = self.n
        paid_in_customers = self.customers_paid
        paid_in_participants = int(self.paid_orders[:n].sum() + self.paid_upline[:n].sum())
        paid_out_participants = int(
            self.sales_retail[:n].sum()
            + self.sales_wholesale[:n].sum()
            + self.recv_reward[:n].sum()
            + self.recv_prize_cash[:n].sum()
            + self.recv_buyback[:n].sum()
        )
        b = self.brand
        paid_out_outside = b["campaigns"] + b["prize_kind"] + b["goods"]
        held = (
            b["collected"]
            - b["rewards"]
            - b["prize_cash"]
            - b["prize_kind"]
            - b["buyback"]
            - b["campaigns"]
            - b["goods"]
        )
        money_in = paid_in_customers + paid_in_participants
        money_out = paid_out_participants + paid_out_outside
        live = self.active[:n]
        gone = ~live
        shipped = self.units["company_to_agents"] + self.units["company_to_members"]
        sold = int(self.u_sold_retail[:n].sum())
        used_from_stock = int(self.u_used[:n].sum())
        held_units = int(self.stock[:n][live].sum())
        stranded = int(self.stock[:n][gone].sum())
        returned = int(self.u_returned[:n].sum())
        transfers_ok = (
            int(self.u_sold_agents[:n].sum()) == int(self.u_bought_agents[:n].sum()) == self.units["agents_to_agents"]
        )
        units_ok = shipped == sold + used_from_stock + held_units + stranded + returned
        negative = int((self.stock[:n] < 0).sum())
        return {
            "month": month,
            "money_in": money_in,
            "money_out": money_out,
            "brand_held": held,
            "money_balanced": money_in == money_out + held,
            "units_shipped": shipped,
            "units_sold": sold,
            "units_used": used_from_stock,
            "units_held": held_units,
            "units_stranded": stranded,
            "units_returned": returned,
            "units_balanced": units_ok and transfers_ok and negative == 0,
            "negative_stock": negative,
            "packs_bought": self.units["packs"],
            "packs_used": int(self.u_packs[:n].sum()),
        }
