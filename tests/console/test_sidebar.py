"""The console's sidebar, as each brand role sees it: which entries, in which order, going where.

The sidebar is read from the page a staff member gets, as they would read it: the entries under
``#nav-sidebar-apps`` (an entry the user may not see is not in the page at all)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from weishang.core.roles import ROLES

# Every entry of the sidebar, in order: its title (as the console shows it in Chinese) and its link.
ENTRIES = {
    "数据看板": "/console/",
    "操作记录": "/console/audit/",
    "代理": "/console/channel/agent/",
    "申请": "/console/channel/application/",
    "等级": "/console/channel/level/",
    "代理轨迹": "/console/channel/agenttrail/",
    "商品": "/console/catalog/product/",
    "规格（SKU）": "/console/catalog/sku/",
    "拿货价表": "/console/catalog/levelprice/grid/",
    "选品": "/console/selection/candidate/",
    "选品标准": "/console/selection/criterion/",
    "素材": "/console/toolkit/material/",
    "海报模板": "/console/toolkit/postertemplate/",
    "百问百答": "/console/faq/faqentry/",
    "资质": "/console/toolkit/qualification/",
    "线索": "/console/leads/lead/",
    "广告投放": "/console/leads/adplacement/",
    "渠道月报": "/console/leads/lead/report/",
    "实体店": "/console/stores/store/",
    "客服收件箱": "/console/service/conversation/",
    "快捷回复": "/console/service/quickreply/",
    "自动回复": "/console/service/autoreply/",
    "招商阶段": "/console/growth/launchphase/",
    "工作计划": "/console/growth/workplan/",
    "渠道健康": "/console/monitor/healthsnapshot/health/",
    "课程": "/console/academy/course/",
    "课件": "/console/academy/slidedeck/",
    "直播课": "/console/academy/liveclass/",
    "学员报名": "/console/academy/enrolment/",
    "结业证书": "/console/academy/coursecertificate/",
    "培训报表": "/console/academy/course/report/",
    "码批次": "/console/codes/codebatch/",
    "单品码": "/console/codes/itemcode/",
    "窜货报告": "/console/codes/channelconflict/",
    "授权书": "/console/certificates/certificate/",
    "授权书模板": "/console/certificates/certificatetemplate/",
    "招商资料": "/console/toolkit/qualification/documents/",
    "订单": "/console/trade/order/",
    "付款记录": "/console/trade/payment/",
    "收款方式": "/console/trade/receivingaccount/",
    "提货单": "/console/trade/order/?kind__exact=pickup",
    "库存": "/console/trade/stocklevel/",
    "库存流水": "/console/trade/stockmove/",
    "库位": "/console/trade/location/",
    "货款钱包": "/console/ledger/account/?purpose__exact=agent_wallet",
    "顾客": "/console/trade/customer/",
    "事件": "/console/core/outboxevent/",
    "销售分析": "/console/sales/salesline/analysis/",
    "采购单": "/console/purchasing/purchaseorder/",
    "供应商": "/console/purchasing/supplier/",
    "供应商价格": "/console/purchasing/supplierprice/",
    "供应商账单": "/console/purchasing/supplierbill/",
    "B2B 订单": "/console/b2b/order/",
    "询价单": "/console/b2b/inquiry/",
    "挂牌商品": "/console/b2b/listing/",
    "售后": "/console/b2b/claim/",
    "贷项通知单": "/console/b2b/creditnote/",
    "企业账户": "/console/b2b/businessaccount/",
    "贷款申请": "/console/autofinance/loanapplication/",
    "超时的贷款步骤": "/console/autofinance/loanapplication/queue/",
    "整车销售": "/console/autofinance/carsale/",
    "金融产品": "/console/autofinance/financeproduct/",
    "金融机构": "/console/autofinance/lender/",
    "车型": "/console/autofinance/car/",
    "购车客户": "/console/autofinance/customer/",
    "渗透率奖励": "/console/autofinance/penetrationincentive/",
    "步骤时效": "/console/autofinance/stepsla/",
    "金融报表": "/console/autofinance/loanapplication/report/",
    "批次与效期": "/console/inventory/batch/",
    "按批次管理的规格": "/console/inventory/batchtracking/",
    "企业成员": "/console/b2b/businessmember/",
    "库存估值": "/console/inventory/skuvaluation/",
    "估值明细": "/console/inventory/valuationlayer/",
    "补货规则": "/console/inventory/reorderrule/",
    "盘点": "/console/inventory/stockcount/",
    "提现": "/console/ledger/withdrawal/",
    "账户": "/console/ledger/account/",
    "记账凭证": "/console/ledger/journalentry/",
    "账务核对": "/console/ledger/journalentry/verify/",
    "方案": "/console/rewards/planversion/",
    "奖励明细": "/console/rewards/rewardline/",
    "周期结算": "/console/rewards/settlementrun/",
    "会议": "/console/meetings/meeting/",
    "招商活动": "/console/campaigns/campaign/",
    "优惠券活动": "/console/promotions/couponoffer/",
    "秒杀": "/console/promotions/flashsale/",
    "促销报表": "/console/promotions/couponoffer/report/",
    "API 密钥": "/console/api/apikey/",
    "设备令牌": "/console/api/apitoken/",
    "Webhook 端点": "/console/webhooks/webhookendpoint/",
    "Webhook 推送记录": "/console/webhooks/webhookdelivery/",
    "微信绑定": "/console/wechat/wechatidentity/",
    "微信绑定记录": "/console/wechat/wechatbindingevent/",
    "消息发送记录": "/console/notifications/delivery/",
    "后台任务": "/console/jobs/scheduledrun/overview/",
    "品牌设置": "/console/core/brand/",
    "员工": "/console/core/user/",
    "角色": "/console/auth/group/",
    "登录锁定": "/console/axes/accessattempt/",
}

# What each role sees (None: a staff member with no role), by section: the entries whose page opens for it.
SEES = {
    "owner": {
        "概览": ["数据看板", "操作记录", "后台任务"],
        "渠道": ["代理", "申请", "等级", "代理轨迹"],
        "商品": ["商品", "规格（SKU）", "拿货价表", "选品", "选品标准"],
        "招商工具包": ["素材", "百问百答", "海报模板", "资质", "授权书", "授权书模板", "招商资料"],
        "招商增长": ["线索", "广告投放", "渠道月报", "实体店", "会议", "招商活动", "招商阶段", "工作计划", "渠道健康"],
        "客服": ["客服收件箱", "快捷回复", "自动回复"],
        "培训": ["课程", "课件", "直播课", "学员报名", "结业证书", "培训报表"],
        "防伪溯源": ["码批次", "单品码", "窜货报告"],
        "交易": [
            "订单",
            "付款记录",
            "收款方式",
            "提货单",
            "库存",
            "库存流水",
            "库位",
            "货款钱包",
            "顾客",
            "事件",
            "销售分析",
        ],
        "进货管理": ["采购单", "供应商", "供应商价格", "供应商账单"],
        "B2B 贸易": ["B2B 订单", "询价单", "挂牌商品", "售后", "贷项通知单", "企业账户", "企业成员"],
        "汽车金融": [
            "贷款申请",
            "超时的贷款步骤",
            "整车销售",
            "金融产品",
            "金融机构",
            "车型",
            "购车客户",
            "渗透率奖励",
            "步骤时效",
            "金融报表",
        ],
        "库存管理": ["库存估值", "估值明细", "补货规则", "盘点", "批次与效期", "按批次管理的规格"],
        "账务": ["提现", "账户", "记账凭证", "账务核对"],
        "方案与奖励": ["方案", "奖励明细", "周期结算"],
        "店铺促销": ["优惠券活动", "秒杀", "促销报表"],
        "集成": [
            "API 密钥",
            "设备令牌",
            "Webhook 端点",
            "Webhook 推送记录",
            "微信绑定",
            "微信绑定记录",
            "消息发送记录",
        ],
        "品牌方": ["品牌设置", "员工", "角色", "登录锁定"],
    },
    "operations": {
        "概览": ["数据看板", "操作记录", "后台任务"],
        "渠道": ["代理", "申请", "等级", "代理轨迹"],
        "商品": ["商品", "规格（SKU）", "拿货价表", "选品", "选品标准"],
        "招商工具包": ["素材", "百问百答", "海报模板", "资质", "授权书", "授权书模板", "招商资料"],
        "招商增长": ["线索", "广告投放", "渠道月报", "实体店", "会议", "招商活动", "招商阶段", "工作计划", "渠道健康"],
        "客服": ["客服收件箱", "快捷回复", "自动回复"],
        "培训": ["课程", "课件", "直播课", "学员报名", "结业证书", "培训报表"],
        "防伪溯源": ["码批次", "单品码", "窜货报告"],
        "交易": ["订单", "付款记录", "提货单", "库存", "顾客", "销售分析"],
        "进货管理": ["采购单", "供应商", "供应商价格"],
        "B2B 贸易": ["B2B 订单", "询价单", "挂牌商品", "售后", "贷项通知单", "企业账户", "企业成员"],
        "库存管理": ["补货规则", "批次与效期"],
        "店铺促销": ["优惠券活动", "秒杀", "促销报表"],
    },
    "finance": {
        "概览": ["数据看板", "操作记录", "后台任务"],
        "渠道": ["代理", "申请", "等级"],
        "商品": ["商品", "规格（SKU）", "拿货价表"],
        "招商增长": ["广告投放", "渠道月报", "会议", "招商活动", "招商阶段", "工作计划", "渠道健康"],
        "交易": ["订单", "付款记录", "收款方式", "提货单", "货款钱包", "事件", "销售分析"],
        "进货管理": ["采购单", "供应商", "供应商价格", "供应商账单"],
        "B2B 贸易": ["B2B 订单", "贷项通知单", "企业账户"],
        "汽车金融": ["贷款申请", "超时的贷款步骤", "整车销售", "金融产品", "金融机构", "渗透率奖励", "金融报表"],
        "库存管理": ["库存估值", "估值明细", "盘点"],
        "账务": ["提现", "账户", "记账凭证", "账务核对"],
        "方案与奖励": ["方案", "奖励明细", "周期结算"],
    },
    "warehouse": {
        "概览": ["数据看板", "操作记录"],
        "渠道": ["代理"],
        "商品": ["商品", "规格（SKU）"],
        "防伪溯源": ["码批次", "单品码"],
        "交易": ["订单", "提货单", "库存", "库存流水", "库位"],
        "进货管理": ["采购单", "供应商"],
        "库存管理": ["补货规则", "盘点", "批次与效期", "按批次管理的规格"],
    },
    "lecturer": {
        "概览": ["数据看板", "操作记录"],
        "渠道": ["等级"],
        "商品": ["商品"],
        "培训": ["课程", "课件", "直播课", "学员报名", "结业证书"],
    },
    "sales_consultant": {
        "概览": ["数据看板"],
        "汽车金融": ["贷款申请", "超时的贷款步骤", "整车销售", "金融产品", "金融机构", "车型", "购车客户"],
    },
    "finance_manager": {
        "概览": ["数据看板"],
        "汽车金融": [
            "贷款申请",
            "超时的贷款步骤",
            "整车销售",
            "金融产品",
            "金融机构",
            "车型",
            "购车客户",
            "渗透率奖励",
            "步骤时效",
            "金融报表",
        ],
    },
    None: {
        "概览": ["数据看板"],
    },
}


class _Sidebar(HTMLParser):
    """{section title: [(entry title, link), ...]} from the console page's sidebar."""

    def __init__(self):
        super().__init__()
        self.sections: dict[str, list[tuple[str, str]]] = {}
        self._depth = 0  # <div> depth inside #nav-sidebar-apps; 0 outside
        self._in = None  # "h2", "a" or "title" while reading a text
        self._section = ""
        self._link = ""
        self._text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div" and (self._depth or attrs.get("id") == "nav-sidebar-apps"):
            self._depth += 1
        if not self._depth:
            return
        if tag == "h2":
            self._in, self._text = "h2", ""
        elif tag == "a" and "href" in attrs:
            self._in, self._link = "a", attrs["href"]
        elif tag == "span" and self._in == "a" and "class" not in attrs:
            self._in, self._text = "title", ""

    def handle_endtag(self, tag):
        if not self._depth:
            return
        if tag == "div":
            self._depth -= 1
        elif tag == "h2" and self._in == "h2":
            self._section, self._in = self._text.strip(), None
        elif tag == "span" and self._in == "title":
            self.sections.setdefault(self._section, []).append((self._text.strip(), self._link))
            self._in = None
        elif tag == "a":
            self._in = None

    def handle_data(self, data):
        if self._in in {"h2", "title"}:
            self._text += data


def sidebar_of(client) -> dict[str, list[tuple[str, str]]]:
    response = client.get("/console/")
    assert response.status_code == 200
    parser = _Sidebar()
    parser.feed(response.content.decode())
    return parser.sections


def test_every_role_is_covered():
    assert set(SEES) - {None} == set(ROLES)


@pytest.mark.parametrize("role", [*ROLES, None])
def test_each_role_sees_its_sidebar(client, staff, role):
    client.force_login(staff(role))
    expected = {section: [(title, ENTRIES[title]) for title in titles] for section, titles in SEES[role].items()}
    assert sidebar_of(client) == expected


@pytest.mark.parametrize("role", [*ROLES, None])
def test_an_entry_is_shown_exactly_when_its_page_opens(client, staff, role):
    """No entry leads to a page that refuses the user, and no page the user may open is left out."""
    client.force_login(staff(role))
    shown = {title for titles in SEES[role].values() for title in titles}
    for title, link in ENTRIES.items():
        status = client.get(link).status_code
        assert status == (200 if title in shown else 403), (role, title, link, status)
