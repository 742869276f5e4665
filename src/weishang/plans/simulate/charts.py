"""PNG charts of a report (matplotlib, Agg backend, imported only when charts are drawn).

Labels are Chinese and English when a CJK font is installed (Noto Sans CJK, WenQuanYi, …),
English only otherwise — never boxes. Amounts are turned into floats here for drawing only.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # matplotlib is imported when charts are drawn, not with the simulator
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.figure import Figure

__all__ = ["CHARTS", "money_tick", "write_charts"]

CHARTS = {
    "agents_by_level": ("在做代理（按等级）", "Active agents by level"),
    "cash_collected": ("品牌收款与现金", "Cash collected and brand cash"),
    "retail_vs_channel": ("零售与渠道进货", "Retail sales vs channel purchases"),
    "channel_inventory": ("渠道库存", "Channel inventory"),
    "income_distribution": ("参与者净收入分布", "Participants' net income"),
}
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
    "Noto Sans CJK JP",
    "Noto Serif CJK SC",
)


def _setup() -> tuple[ModuleType, bool]:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    cjk = next((name for name in CJK_FONTS if name in installed), None)
    plt.rcParams.update(
        {
            "font.family": "sans-serif",
            "font.sans-serif": ([cjk] if cjk else []) + ["DejaVu Sans"],
            "axes.unicode_minus": False,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "figure.dpi": 100,
        }
    )
    return plt, cjk is not None


def _label(zh: str, en: str, bilingual: bool) -> str:
    return f"{zh} {en}" if bilingual else en


def _short(number: float) -> str:
    """1.5 → '1.5', 120.0 → '120', 2000.0 → '2,000' (at most one decimal, no trailing zero)."""
    text = f"{number:,.1f}"
    return text[:-2] if text.endswith(".0") else text


def money_tick(value: float, lang: str = "zh") -> str:
    """A money axis tick as people write it: 1.5万, 2.5亿 in Chinese; 15k, 250M in English. Never
    matplotlib's "1e8" (its scientific offset is turned off where this formatter is used)."""
    sign = "−" if value < 0 else ""
    size = abs(float(value))
    steps = ((1e8, "亿"), (1e4, "万")) if lang == "zh" else ((1e6, "M"), (1e3, "k"))
    for unit, suffix in steps:
        if size >= unit:
            return f"{sign}{_short(size / unit)}{suffix}"
    return f"{sign}{_short(size)}" if size else "0"


def _money_axis(axis: Axis, lang: str) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda value, _pos: money_tick(value, lang)))


def _yuan(values: list[str]) -> np.ndarray:
    return np.array([float(Decimal(v)) for v in values])


def write_charts(report: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """Draw the five charts into ``out_dir``; returns {name: path}."""
    plt, bi = _setup()
    lang = "zh" if bi else "en"  # Chinese units where Chinese can be drawn
    mo = report["monthly"]
    months = mo["month"]
    x = np.arange(len(months))
    ticks = x[:: max(1, len(x) // 12)]
    paths: dict[str, Path] = {}

    def finish(fig: Figure, ax: Axes, name: str, ylabel: tuple[str, str]) -> None:
        zh, en = CHARTS[name]
        ax.set_title(_label(zh, en, bi))
        ax.set_ylabel(_label(*ylabel, bi))
        if name != "income_distribution":
            ax.set_xticks(ticks)
            ax.set_xticklabels([months[i] for i in ticks], rotation=45, ha="right")
        fig.tight_layout()
        path = out_dir / f"{name}.png"
        fig.savefig(path, metadata={"Software": None})
        plt.close(fig)
        paths[name] = path

    # 1. agents by level
    fig, ax = plt.subplots(figsize=(8, 4.2))
    levels = report["model"]["levels"]
    stacks = [mo["active_by_level"][lv["code"]] for lv in reversed(levels)]
    names = [_label(lv["name"], lv["code"], bi) for lv in reversed(levels)]
    if len(x):
        ax.stackplot(x, stacks, labels=names, alpha=0.85)
    ax.legend(loc="upper left", fontsize=8)
    finish(fig, ax, "agents_by_level", ("人数", "agents"))

    # 2. cash collected, brand cash
    fig, ax = plt.subplots(figsize=(8, 4.2))
    ax.bar(x, _yuan(mo["cash_collected"]), color="#4c72b0", label=_label("当月收款", "collected in the month", bi))
    ax.plot(
        x, _yuan(mo["brand_cash"]), color="#c44e52", lw=2, label=_label("品牌累计现金", "brand cash, cumulative", bi)
    )
    ax.axhline(0, color="black", lw=0.8)
    ax.legend(loc="upper left", fontsize=8)
    _money_axis(ax.yaxis, lang)
    finish(fig, ax, "cash_collected", ("元", "yuan"))

    # 3. retail vs channel purchases
    fig, ax = plt.subplots(figsize=(8, 4.2))
    ax.plot(
        x,
        _yuan(mo["participant_purchases"]),
        lw=2,
        color="#dd8452",
        label=_label("参与者进货（入门、升级、补货、自购）", "participants' purchases", bi),
    )
    ax.plot(
        x,
        _yuan(mo["entry_and_upgrade_purchases"]),
        lw=1.5,
        ls="--",
        color="#937860",
        label=_label("其中入门与升级", "of which entry and upgrade", bi),
    )
    ax.plot(
        x,
        _yuan(mo["retail_to_non_participants"]),
        lw=2,
        color="#55a868",
        label=_label("零售给非参与者", "retail to non-participants", bi),
    )
    ax.legend(loc="upper left", fontsize=8)
    _money_axis(ax.yaxis, lang)
    finish(fig, ax, "retail_vs_channel", ("元/月", "yuan a month"))

    # 4. channel inventory and months of stock
    fig, ax = plt.subplots(figsize=(8, 4.2))
    ax.fill_between(
        x,
        mo["channel_inventory"],
        color="#8172b3",
        alpha=0.5,
        label=_label("代理手中库存（件）", "units held by agents", bi),
    )
    ax2 = ax.twinx()
    mos = np.array([v if v is not None else np.nan for v in mo["months_of_stock"]], dtype=float)
    ax2.plot(x, mos, color="#c44e52", lw=1.8, label=_label("库存月数", "months of stock", bi))
    ax2.axhline(3, color="#c44e52", lw=0.8, ls=":")
    ax2.set_ylabel(_label("月", "months", bi))
    ax2.spines["right"].set_visible(True)
    ax2.grid(False)
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="upper right", fontsize=8)
    finish(fig, ax, "channel_inventory", ("件", "units"))

    # 5. income distribution
    fig, ax = plt.subplots(figsize=(8, 4.2))
    net = report.get("_net")
    values = (np.asarray(net, dtype=np.int64) / 100.0) if net is not None else np.zeros(0)
    if len(values):
        lo, hi = np.percentile(values, [1, 99])
        if lo == hi:
            lo, hi = lo - 1, hi + 1
        clipped = np.clip(values, lo, hi)
        neg = clipped[clipped < 0]
        pos = clipped[clipped >= 0]
        if lo < 0 < hi:  # zero is a bin edge: a bar is all loss or all no-loss
            k = max(2, min(38, round(40 * -lo / (hi - lo))))
            bins = np.concatenate([np.linspace(lo, 0, k + 1), np.linspace(0, hi, 41 - k)[1:]])
        else:
            bins = np.linspace(lo, hi, 41)
        ax.hist(neg, bins=bins, color="#c44e52", alpha=0.8, label=_label("亏损", "net loss", bi))
        ax.hist(pos, bins=bins, color="#55a868", alpha=0.8, label=_label("不亏", "no loss", bi))
        ax.axvline(0, color="black", lw=0.8)
        share = report["loss"]["loss_share"] or 0
        ax.text(
            0.99,
            0.95,
            _label(f"亏损 {share * 100:.1f}%", f"loss {share * 100:.1f}%", bi),
            transform=ax.transAxes,
            ha="right",
            va="top",
        )
        ax.legend(loc="upper left", fontsize=8)
    _money_axis(ax.xaxis, lang)
    ax.set_xlabel(
        _label("净收入（元，1%–99% 分位之外的并入两端）", "net income, yuan (clipped to 1st–99th percentile)", bi)
    )
    finish(fig, ax, "income_distribution", ("参与者人数", "participants"))
    return paths
