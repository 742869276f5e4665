"""百问百答 (launch toolkit): questions by category and level, Chinese search that finds two-character
words (结算, 代理) also inside longer ones, on SQLite's FTS5 and PostgreSQL's full text alike;
imports from Markdown and Excel that add everything or nothing and list every problem; the phone
page, the public API, the command line and the console; hostile queries never break the search."""

from __future__ import annotations

import io
import json
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from openpyxl import Workbook

from weishang.core.models import Brand
from weishang.faq import selectors, services
from weishang.faq.models import FaqCategory, FaqEntry, FaqSearch

MARKDOWN = """# 百问百答

## 奖励与结算

### 结算周期是多久？
零售佣金在订单完成后冻结 7 天，之后可提现。

### 零售佣金怎么算？
顾客付款签收后得到 10% 的佣金。

## 加入与等级

### 加入需要交钱吗？
不需要，所有等级都是免费加入。

### 招商资料在哪里？
可见：市代
市代及以上可以查看招商政策说明。

### 代理商的拿货价是多少？
精华 30ml：市代 170 元，特约 230 元。
"""


@pytest.fixture
def faq(db, levels):
    Brand.objects.create(name="焕颜 GLOW")
    services.faq_import(services.parse_markdown(MARKDOWN))
    return levels


def questions(entries) -> list[str]:
    return [entry.question for entry in entries]


def test_the_markdown_import_reads_categories_questions_answers_and_levels(faq):
    assert list(FaqCategory.objects.values_list("name", flat=True)) == ["奖励与结算", "加入与等级"]
    limited = FaqEntry.objects.get(question="招商资料在哪里？")
    assert limited.min_level.code == "city" and limited.answer == "市代及以上可以查看招商政策说明。"
    assert FaqEntry.objects.get(question="结算周期是多久？").answer.startswith("零售佣金在订单完成后冻结 7 天")


def test_two_character_words_are_found_also_inside_longer_words(faq):
    assert questions(selectors.faq_search("结算")) == ["结算周期是多久？"]
    # 代理 stands inside 代理商: the index holds both words.
    assert questions(selectors.faq_search("代理")) == ["代理商的拿货价是多少？"]
    assert set(questions(selectors.faq_search("佣金"))) == {"零售佣金怎么算？", "结算周期是多久？"}
    # Every word must be there.
    assert questions(selectors.faq_search("结算 免费")) == []
    assert questions(selectors.faq_search("免费加入")) == ["加入需要交钱吗？"]


def test_a_question_for_higher_levels_is_found_only_by_them(faq, make_agent):
    city = make_agent("city", real_name="市代王芳")
    vip = make_agent("vip", referrer=city, real_name="特约李娜")
    assert questions(selectors.faq_search("招商")) == []  # the public
    assert questions(selectors.faq_search("招商", agent=vip)) == []
    assert questions(selectors.faq_search("招商", agent=city)) == ["招商资料在哪里？"]


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '""',
        "*",
        "结算*",
        "NEAR(结算 代理)",
        "结算 OR 代理",
        "terms:结算",
        "-结算",
        "^",
        "'; DROP TABLE faq_index; --",
        "结算\x00",
        "a" * 10_000,
        "（）【】！？",
        "   ",
    ],
)
def test_hostile_queries_find_nothing_wrong_and_break_nothing(faq, query):
    found = selectors.faq_search(query)
    assert all(isinstance(entry, FaqEntry) for entry in found)
    assert FaqEntry.objects.count() == 5  # the index and the table are intact
    assert questions(selectors.faq_search("结算")) == ["结算周期是多久？"]


def test_a_changed_or_deleted_entry_is_searched_as_it_is_now(faq):
    entry = FaqEntry.objects.get(question="结算周期是多久？")
    entry.answer = "每月 10 日发放月度奖励。"
    entry.question = "奖励什么时候发？"
    services.faq_entry_save(entry=entry)
    assert questions(selectors.faq_search("结算")) == []
    assert questions(selectors.faq_search("发放")) == ["奖励什么时候发？"]
    services.faq_entry_delete(entry=entry)
    assert questions(selectors.faq_search("发放")) == []


def _xlsx(rows) -> SimpleUploadedFile:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile("faq.xlsx", buffer.getvalue())


def test_the_excel_import_adds_all_or_nothing_and_lists_every_problem(faq):
    good = _xlsx(
        [
            ("分类", "问题", "答案", "可见级别"),
            ("提现", "提现有手续费吗？", "手续费 0.6%。", ""),
            ("提现", "多久到账？", "1–3 个工作日。", "市代"),
        ]
    )
    assert services.faq_import(services.parse_xlsx(good)) == 2
    assert questions(selectors.faq_search("手续费")) == ["提现有手续费吗？"]
    before = FaqEntry.objects.count()
    bad = _xlsx(
        [
            ("分类", "问题", "答案", "可见级别"),
            ("提现", "", "没有问题", ""),
            ("提现", "好问题", "好答案", "钻石"),
            ("", "问", "答", ""),
        ]
    )
    with pytest.raises(services.ImportFailed) as refused:
        services.faq_import(services.parse_xlsx(bad))
    assert len(refused.value.problems) == 3
    assert any("第 2 行" in p for p in refused.value.problems) and any("钻石" in p for p in refused.value.problems)
    assert FaqEntry.objects.count() == before
    with pytest.raises(services.ImportFailed):
        services.parse_xlsx(SimpleUploadedFile("x.xlsx", b"not a workbook"))
    with pytest.raises(services.ImportFailed):
        services.parse_xlsx(_xlsx([("问题", "答案"), ("a", "b")]))


def test_the_phone_page_searches_and_records_the_search(faq, make_agent):
    agent = make_agent("city", real_name="市代王芳")
    client = Client()
    client.force_login(agent.user)
    page = client.get("/m/faq/", {"q": "结算"}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "结算周期是多久？" in page and "零售佣金在订单完成后冻结 7 天" in page
    assert FaqSearch.objects.get().query == "结算"
    browse = client.get("/m/faq/").content.decode()
    assert "奖励与结算" in browse and "招商资料在哪里？" in browse
    assert client.get("/m/faq/", {"q": "\x00" * 3}).status_code == 200


def test_the_public_api_finds_public_answers_only(faq, client):
    answer = client.get("/api/v1/public/faq", {"q": "结算"})
    assert answer.status_code == 200
    assert [r["question"] for r in answer.json()["results"]] == ["结算周期是多久？"]
    assert client.get("/api/v1/public/faq", {"q": "招商"}).json()["results"] == []
    refused = client.get("/api/v1/public/faq", {"q": ""})
    assert refused.status_code == 422 and refused.json()["error"]["fields"]["q"]
    assert client.get("/api/v1/public/faq", {"q": "x" * 101}).status_code == 422


def test_the_command_line_searches_as_json_and_imports_a_file(faq, tmp_path):
    out = StringIO()
    call_command("faq", "search", "代理", "--format", "json", stdout=out)
    body = json.loads(out.getvalue())
    assert body["query"] == "代理" and [r["question"] for r in body["results"]] == ["代理商的拿货价是多少？"]
    source = tmp_path / "more.md"
    source.write_text("## 售后\n\n### 可以退货吗？\n可以，发货方同意后退款。\n", encoding="utf-8")
    out = StringIO()
    call_command("faq", "import", str(source), stdout=out)
    assert "1 question(s) imported." in out.getvalue()
    broken = tmp_path / "broken.md"
    broken.write_text("## 售后\n\n### 没有答案？\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("faq", "import", str(broken))
    out = StringIO()
    call_command("faq", "top", stdout=out)
    assert "代理" in out.getvalue()


def test_the_console_imports_and_shows_the_most_searched(faq, django_user_model):
    from django.contrib.auth.models import Group

    from weishang.core.roles import role_group_name, roles_sync

    roles_sync()
    owner = django_user_model.objects.create_user(username="owner-faq", password="pass-word-1", is_staff=True)
    owner.groups.add(Group.objects.get(name=role_group_name("owner")))
    client = Client()
    client.force_login(owner)
    services.faq_search_logged("结算")
    services.faq_search_logged("结算")
    listing = client.get("/console/faq/faqentry/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-testid="most-searched"' in listing and "结算 · 2" in listing
    upload = SimpleUploadedFile("faq.md", "## 售后\n\n### 可以换货吗？\n可以。\n".encode())
    assert client.post("/console/faq/faqentry/import/", {"file": upload}).status_code == 302
    assert FaqEntry.objects.filter(question="可以换货吗？").exists()
    bad = SimpleUploadedFile("faq.md", b"\xff\xfe\x00garbage")
    refused = client.post("/console/faq/faqentry/import/", {"file": bad}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert refused.status_code == 400
    finance = django_user_model.objects.create_user(username="fin-faq", password="pass-word-1", is_staff=True)
    finance.groups.add(Group.objects.get(name=role_group_name("finance")))
    other = Client()
    other.force_login(finance)
    assert other.get("/console/faq/faqentry/import/").status_code == 403


def test_the_demo_faq_has_forty_questions_and_finds_settlement_and_agents(db, levels):
    from weishang.demo.services import _faq

    Brand.objects.create(name="焕颜 GLOW")
    _faq()
    assert FaqEntry.objects.count() >= 40
    assert selectors.faq_search("结算") and selectors.faq_search("代理")
    # A word in the question ranks above a word mentioned in an answer.
    assert selectors.faq_search("结算")[0].question == "结算周期是多久？"


def test_index_rows_left_by_deleted_entries_never_crowd_out_real_answers(faq):
    """Rows emptied from the table but not from the index (as a test database's flush leaves
    them) are not ranked: the real answer is still found with a small limit."""
    for n in range(30):
        services.faq_entry_save(
            entry=FaqEntry(category=FaqCategory.objects.first(), question=f"结算问题{n}", answer="结算结算结算")
        )
    FaqEntry.objects.filter(question__startswith="结算问题").delete()  # the ORM: the index keeps them
    assert questions(selectors.faq_search("结算", limit=1)) == ["结算周期是多久？"]
