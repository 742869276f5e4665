"""Product selection (选品): candidates scored against the brand's weighted criteria, adopted into
the catalog in one step.

Worked example with the default criteria (weights: price 3, audience 2, effect 3, storage 1,
shipping 1, packaging 2, margin 2, repeat 2 — 16 in all). An enzyme jelly at ¥168 from a factory
charging ¥31: price ≤ 300 → 5; margin (168 − 31) / 168 = 81.5 % → 5. Scored by hand: audience 5,
effect 4, storage 3, shipping 4, packaging 4, repeat 5. Weighted: 3·5 + 2·5 + 3·4 + 1·3 + 1·4 +
2·4 + 2·5 + 2·5 = 15 + 10 + 12 + 3 + 4 + 8 + 10 + 10 = 72; 72 / 16 = 4.5 → × 20 = 90.0 out of 100.
"""

from __future__ import annotations

import io
import itertools
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from weishang.catalog.models import SKU
from weishang.core.errors import BusinessError, Conflict
from weishang.core.roles import role_group_name, roles_sync
from weishang.selection import selectors, services
from weishang.selection.models import Candidate, CandidateStatus, Criterion, Rule

pytestmark = pytest.mark.django_db
D = Decimal
_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def png(color=(200, 80, 60), size=(64, 48)) -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return SimpleUploadedFile("sample.png", buf.getvalue(), content_type="image/png")


def criteria() -> dict[str, Criterion]:
    return {c.code: c for c in Criterion.objects.all()}


def jelly() -> Candidate:
    c = criteria()
    candidate = services.candidate_save(name="白芸豆酵素果冻", retail_price="168", unit_cost="31")
    hand = {"audience": 5, "effect": 4, "storage": 3, "shipping": 4, "packaging": 4, "repeat": 5}
    services.candidate_score(candidate=candidate, scores={c[k].pk: (v, "") for k, v in hand.items()})
    return candidate


def test_the_default_criteria_are_the_sources():
    c = criteria()
    assert list(c) == ["price", "audience", "effect", "storage", "shipping", "packaging", "margin", "repeat"]
    assert (c["price"].rule, c["margin"].rule) == (Rule.PRICE, Rule.MARGIN)
    assert sum(x.weight for x in c.values()) == 16


def test_the_worked_example():
    card = services.scorecard(jelly())
    assert card.total == D("90.0") and (card.scored, card.weighted) == (8, 8)
    auto = {row.criterion.code: row.score for row in card.rows if row.automatic}
    assert auto == {"price": 5, "margin": 5}


@pytest.mark.parametrize(
    "price, cost, price_score, margin_score",
    [("300", "90", 5, 5), ("300.01", "150", 4, 3), ("400", "200", 3, 3), ("499", "290", 2, 2), ("1280", "420", 1, 4)],
)
def test_price_and_margin_are_scored_from_the_figures(price, cost, price_score, margin_score):
    candidate = services.candidate_save(name="x", retail_price=price, unit_cost=cost)
    assert services.rule_score(Rule.PRICE, candidate) == price_score
    assert services.rule_score(Rule.MARGIN, candidate) == margin_score


def test_a_weight_of_zero_leaves_a_criterion_out_and_the_ranking_follows_the_total():
    good = jelly()
    pricey = services.candidate_save(name="射频美容仪", retail_price="1280", unit_cost="420")
    services.candidate_save(name="未评分")
    ranking = [c.name for c, _card in selectors.ranked()]
    assert ranking == ["白芸豆酵素果冻", "射频美容仪", "未评分"]
    Criterion.objects.exclude(code="price").update(weight=0)
    assert services.scorecard(good).total == D("100.0") and services.scorecard(pricey).total == D("20.0")


@pytest.mark.parametrize("raw", ["0", "6", "-1", "abc", "4.5"])
def test_a_bad_score_is_refused_and_changes_nothing(raw):
    candidate = jelly()
    before = services.scorecard(candidate).total
    c = criteria()
    with pytest.raises(BusinessError) as refused:
        services.candidate_score(candidate=candidate, scores={c["effect"].pk: ("1", ""), c["repeat"].pk: (raw, "")})
    assert refused.value.field == "score"
    assert services.scorecard(candidate).total == before


def test_a_criterion_scored_from_figures_cannot_be_scored_by_hand():
    candidate = jelly()
    with pytest.raises(BusinessError):
        services.candidate_score(candidate=candidate, scores={criteria()["price"].pk: ("1", "")})


@pytest.mark.parametrize(
    "field, value", [("retail_price", "-5"), ("unit_cost", "abc"), ("retail_price", "NaN"), ("unit_cost", "1.001")]
)
def test_bad_figures_are_refused(field, value):
    with pytest.raises(BusinessError) as refused:
        services.candidate_save(name="x", **{field: value})
    assert refused.value.field == field and not Candidate.objects.exists()


def test_a_photo_is_checked_from_its_bytes():
    candidate = jelly()
    fake = SimpleUploadedFile("box.png", b"<script>alert(1)</script>", content_type="image/png")
    with pytest.raises(BusinessError):
        services.candidate_photo_add(candidate=candidate, upload=fake)
    services.candidate_photo_add(candidate=candidate, upload=png(), caption="包装")
    assert candidate.photos.count() == 1


def test_adopting_makes_a_catalog_product_with_the_photos_and_a_sku():
    candidate = jelly()
    services.candidate_photo_add(candidate=candidate, upload=png((10, 120, 200), (80, 60)), caption="包装正面")
    product = services.candidate_adopt(candidate=candidate, sku_code="jelly-10")
    sku = SKU.objects.get(code="JELLY-10")
    assert sku.product == product and sku.retail_price == D("168.00") and product.name == "白芸豆酵素果冻"
    [image] = product.images.all()
    assert image.caption == "包装正面"
    with image.image.open("rb") as f, Image.open(f) as read_back:
        assert read_back.size == (80, 60) and read_back.getpixel((5, 5)) == (10, 120, 200)
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.ADOPTED and candidate.product == product
    with pytest.raises(Conflict):
        services.candidate_adopt(candidate=candidate, sku_code="OTHER")


@pytest.mark.parametrize("code", ["", "有中文", "a b", "X" * 41, "GLOW-30ML"])
def test_adopting_with_a_bad_or_taken_sku_code_changes_nothing(code):
    from weishang.catalog.models import Product

    Product.objects.create(name="existing").skus.create(code="GLOW-30ML", name="x", retail_price=D("1"))
    candidate = jelly()
    with pytest.raises(BusinessError) as refused:
        services.candidate_adopt(candidate=candidate, sku_code=code)
    assert refused.value.field == "sku_code"
    assert Product.objects.count() == 1 and Candidate.objects.get(pk=candidate.pk).status == CandidateStatus.CONSIDERING


# --- the console ------------------------------------------------------------------------------


INLINE = {"photos-TOTAL_FORMS": "0", "photos-INITIAL_FORMS": "0"}  # the photo list's formset, as the page sends it


def staff(role):
    roles_sync()
    user = get_user_model().objects.create_user(
        username=f"{role}{next(_seq)}", password="staff-pass-123", is_staff=True
    )
    user.groups.add(Group.objects.get(name=role_group_name(role)))
    return get_user_model().objects.get(pk=user.pk)


def test_operations_scores_and_adopts_a_candidate_in_the_console(client):
    client.force_login(staff("operations"))
    added = client.post(
        "/console/selection/candidate/add/",
        {"name": "白芸豆酵素果冻", "retail_price": "168", "unit_cost": "31", **INLINE},
    )
    assert added.status_code == 302
    candidate = Candidate.objects.get()
    page = client.get(f"/console/selection/candidate/{candidate.pk}/change/").content.decode()
    assert "评分表" in page and "加入商品库" in page
    c = criteria()
    form = {f"score-{c[k].pk}": v for k, v in {"audience": "5", "effect": "4", "storage": "3"}.items()}
    client.post(f"/console/selection/candidate/{candidate.pk}/score/", form)
    client.post(f"/console/selection/candidate/{candidate.pk}/photo/", {"photo": png(), "caption": "样品"})
    assert candidate.scores.count() == 3 and candidate.photos.count() == 1
    listing = client.get("/console/selection/candidate/").content.decode()
    assert str(services.scorecard(candidate).total) in listing
    done = client.post(f"/console/selection/candidate/{candidate.pk}/adopt/", {"sku_code": "JELLY-10"}, follow=True)
    assert "已加入商品库" in done.content.decode()
    assert SKU.objects.filter(code="JELLY-10").exists()


def test_a_negative_price_in_the_console_form_is_refused_on_its_field(client):
    client.force_login(staff("owner"))
    page = client.post("/console/selection/candidate/add/", {"name": "x", "retail_price": "-1", **INLINE})
    assert page.status_code == 200 and not Candidate.objects.exists()


@pytest.mark.parametrize("role", ["finance", "warehouse", "lecturer"])
def test_other_roles_see_no_selection(client, role):
    candidate = jelly()
    client.force_login(staff(role))
    assert client.get("/console/selection/candidate/").status_code == 403
    assert client.post(f"/console/selection/candidate/{candidate.pk}/adopt/", {"sku_code": "X-1"}).status_code == 403
    assert not SKU.objects.filter(code="X-1").exists()
