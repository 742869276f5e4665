"""European Union: Unfair Commercial Practices Directive, Annex I point 14 (rulebook id EU-14;
EU-14-SIM, on simulated figures, is in ``simulated``)."""

from __future__ import annotations

from collections.abc import Iterator

from .base import Context, Hit, payments, payments_en, payments_zh, recruiting, rule

EU14_SOURCE = "Directive 2005/29/EC Annex I point 14; CJEU C-515/12 4finance; C-667/15 Loterie Nationale"


@rule(
    "EU-14",
    "CRIT",
    "eu",
    EU14_SOURCE,
    "consideration is paid for the chance of compensation derived primarily from recruiting others",
    "参与者支付对价，以换取主要来源于发展他人的报酬机会",
)
def eu_14(ctx: Context) -> Iterator[Hit]:
    plan = ctx.plan
    pays = payments(plan)
    if not pays:
        return
    for r in recruiting(plan):
        if not r.direct:
            continue  # team ladders on team purchases: whether they are "primarily" recruitment is EU-14-SIM
        yield Hit(
            r.path,
            f"Participants pay consideration ({payments_en(pays)}) and {r.en}: compensation derived from "
            "recruiting others or from what recruits pay to join (the amount is irrelevant; an indirect link "
            "suffices). Lawful alternative: free entry, or no reward linked to recruiting — pay on sales to "
            "customers only.",
            f"参与者须支付对价（{payments_zh(pays)}），而{r.zh}：报酬来源于发展他人或新人加入时支付的款项（金额多少无关，"
            "间接关联即可构成）。合法做法：免费加入，或取消一切与招人挂钩的奖励——只按对顾客的销售计酬。",
        )
