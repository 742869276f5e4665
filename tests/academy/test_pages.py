"""The academy's phone pages and API, as each person may use them: an agent sees only their own
courses, progress and certificates; a 特约 cannot open the 市代 course (page and API); an upline sees
their team's progress and no one else's; hostile input (unknown ids, over-long text, answers of the
wrong shape) is a 4xx or a form error, never a 500; the public pages need no login."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.academy.conftest import PASSWORD, right_answers
from tests.api.conftest import Api
from weishang.academy import services
from weishang.academy.models import CourseCertificate, CourseKind, Enrolment, LessonProgress, QuizAttempt
from weishang.api.services import token_create
from weishang.leads.models import Lead

pytestmark = pytest.mark.django_db


def login(agent) -> Client:
    client = Client()
    assert client.login(username=agent.phone, password=PASSWORD)
    return client


def api_for(agent) -> Api:
    return Api(token=token_create(user=agent.user, device="测试")[1])


@pytest.fixture
def enrolled(world):
    services.academy_follow_events()
    return world


def test_my_courses_continue_where_i_left_off(enrolled):
    newcomer, bootcamp = enrolled["newcomer"], enrolled["bootcamp"]
    client = login(newcomer)
    first, second, _third = bootcamp.lessons.order_by("position")
    html = client.get("/m/academy/").content.decode()
    assert "小白特训营" in html and f"/m/academy/lessons/{first.pk}/" in html and "开始" in html
    assert client.get(f"/m/academy/lessons/{first.pk}/").status_code == 200
    response = client.post(f"/m/academy/lessons/{first.pk}/progress/", {"finished": "on"})
    assert response.status_code == 302 and response["Location"] == f"/m/academy/lessons/{second.pk}/"
    html = client.get("/m/academy/").content.decode()
    assert f"/m/academy/lessons/{second.pk}/" in html and "继续" in html
    # the player's report of time spent
    response = client.post(
        f"/m/academy/lessons/{second.pk}/progress/", {"seconds": "45"}, headers={"Accept": "application/json"}
    )
    assert response.json() == {"seconds": 45, "finished": False}


def test_a_vip_cannot_open_the_gated_course_and_a_city_agent_can(enrolled):
    gated = enrolled["gated"]
    vip = login(enrolled["newcomer"])
    response = vip.get(f"/m/academy/courses/{gated.pk}/")
    assert response.status_code == 403 and "市代及以上" in response.content.decode()
    assert vip.post(f"/m/academy/courses/{gated.pk}/enrol/").status_code == 403
    assert vip.get(f"/m/academy/lessons/{gated.lessons.first().pk}/").status_code == 403
    assert not Enrolment.objects.filter(course=gated).exists()
    city = login(enrolled["upline"])
    assert city.get(f"/m/academy/courses/{gated.pk}/").status_code == 200
    assert city.post(f"/m/academy/courses/{gated.pk}/enrol/").status_code == 302
    assert city.get(f"/m/academy/lessons/{gated.lessons.first().pk}/").status_code == 200
    # the API says the same
    vip_api = api_for(enrolled["newcomer"])
    refused = vip_api.get(f"/academy/courses/{gated.pk}")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert api_for(enrolled["upline"]).get(f"/academy/courses/{gated.pk}").json()["enrolled"] is True


def test_an_agent_cannot_open_anothers_progress_or_certificate(enrolled):
    newcomer, stranger, upline = enrolled["newcomer"], enrolled["stranger"], enrolled["upline"]
    for lesson in enrolled["bootcamp"].lessons.all():
        services.lesson_progress_record(agent=newcomer, lesson=lesson, finished=True)
    services.quiz_attempt_submit(agent=newcomer, quiz=enrolled["quiz"], answers=right_answers(enrolled["quiz"]))
    certificate = CourseCertificate.objects.get()
    mine = login(newcomer)
    assert mine.get(f"/m/academy/certificates/{certificate.pk}.png").status_code == 200
    assert mine.get(f"/m/academy/certificates/{certificate.pk}.pdf")["Content-Type"] == "application/pdf"
    theirs = login(stranger)
    assert theirs.get(f"/m/academy/certificates/{certificate.pk}.png").status_code == 404
    assert certificate.serial not in theirs.get("/m/academy/certificates/").content.decode()
    # a team's progress: the upline sees the newcomer; the stranger and the newcomer see no one above
    assert login(upline).get(f"/m/academy/team/{newcomer.pk}/").status_code == 200
    assert theirs.get(f"/m/academy/team/{newcomer.pk}/").status_code == 404
    assert mine.get(f"/m/academy/team/{upline.pk}/").status_code == 404
    html = login(upline).get("/m/academy/team/").content.decode()
    assert "2 人中 1 人已完成（2 人已报名）" in html
    # brand staff and anonymous visitors have no phone pages
    assert Client().get("/m/academy/").status_code == 302


def test_the_public_pages_need_no_login(enrolled, make_agent):
    open_class = services.course_save(
        course=services.Course(
            title="招商公开课", kind=CourseKind.OPEN, published=True, join_link="https://m.qlchat.com/x"
        )
    )
    url = f"/academy/open/{open_class.public_token}/?from={enrolled['upline'].invite_code}"
    assert Client().get(url).status_code == 200
    bad = Client().post(url, {"name": "王" * 60, "phone": "123"})
    assert bad.status_code == 400 and not Lead.objects.exists()
    good = Client().post(url, {"name": "潜在客户", "phone": "13912345678"})
    assert good.status_code == 200
    lead = Lead.objects.get()
    assert lead.owner_agent == enrolled["upline"] and lead.channel == "referral"
    assert Client().get("/academy/open/nonsense/").status_code == 404
    # a draft course has no public page even with its code
    enrolled["bootcamp"].refresh_from_db()
    assert Client().get(f"/academy/open/{enrolled['bootcamp'].public_token}/").status_code == 404
    # the certificate check
    assert Client().get("/verify/course/").status_code == 200
    assert Client().get("/verify/course/", {"q": "KC2026XXXXXXXX0"}).status_code == 200
    assert Client().get("/verify/course/", {"q": "x" * 300}).status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        {"seconds": -5},
        {"seconds": 99999},
        {"seconds": "abc"},
        {"seconds": "9" * 400},
    ],
)
def test_bad_progress_is_a_4xx(enrolled, body):
    lesson = enrolled["bootcamp"].lessons.first()
    client = login(enrolled["newcomer"])
    response = client.post(f"/m/academy/lessons/{lesson.pk}/progress/", body, headers={"Accept": "application/json"})
    assert response.status_code == 400
    api = api_for(enrolled["newcomer"])
    assert api.post(f"/academy/lessons/{lesson.pk}/progress", body).status_code == 422
    assert not LessonProgress.objects.filter(seconds_spent__gt=0).exists()


def test_unknown_ids_are_404(enrolled):
    client = login(enrolled["newcomer"])
    for url in ("/m/academy/courses/999999/", "/m/academy/lessons/999999/", "/m/academy/courses/999999/quiz/"):
        assert client.get(url).status_code == 404, url
    api = api_for(enrolled["newcomer"])
    assert api.get("/academy/courses/999999").status_code == 404
    assert api.post("/academy/lessons/999999/progress", {"finished": True}).status_code == 404
    assert (
        api.post("/academy/quizzes/999999/attempts", {"answers": [{"question": 1, "choices": [1]}]}).status_code == 404
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"answers": []},
        {"answers": "all of them"},
        {"answers": [{"question": "x", "choices": [1]}]},
        {"answers": [{"question": 1, "choices": []}]},
        {"answers": [{"question": 1, "choices": [1]}]},
        {"answers": [{"question": 2**70, "choices": [1]}]},
    ],
)
def test_quiz_answers_of_the_wrong_shape_are_a_4xx(enrolled, body):
    api = api_for(enrolled["newcomer"])
    response = api.post(f"/academy/quizzes/{enrolled['quiz'].pk}/attempts", body)
    assert response.status_code in (400, 422)
    assert "error" in response.json()
    assert not QuizAttempt.objects.exists()


def test_the_quiz_page_and_api(enrolled):
    quiz, newcomer = enrolled["quiz"], enrolled["newcomer"]
    client = login(newcomer)
    url = f"/m/academy/courses/{enrolled['bootcamp'].pk}/quiz/"
    assert client.get(url).status_code == 200
    partial = client.post(url, {})
    assert partial.status_code == 400 and "每道题" in partial.content.decode()
    hostile = client.post(url, {f"q{quiz.questions.first().pk}": ["abc", "9" * 30]})
    assert hostile.status_code == 400
    answers = right_answers(quiz)
    response = client.post(url, {f"q{k}": v for k, v in answers.items()})
    assert response.status_code == 200 and "100%" in response.content.decode()
    body = {"answers": [{"question": int(k), "choices": v} for k, v in answers.items()]}
    result = api_for(newcomer).post(f"/academy/quizzes/{quiz.pk}/attempts", body)
    assert result.status_code == 201 and result.json()["passed"] is True
    # not enrolled: the stranger is enrolled too (bootcamp); the gated course's upline without a quiz
    other_api = api_for(enrolled["upline"])
    assert other_api.get("/academy/courses").status_code == 200


def test_the_api_my_courses_and_progress(enrolled):
    api = api_for(enrolled["newcomer"])
    [card] = [c for c in api.get("/academy/courses").json() if c["kind"] == "bootcamp"]
    assert card["lessons"] == 3 and card["finished_lessons"] == 0
    lesson = card["continue_lesson"]
    done = api.post(f"/academy/lessons/{lesson}/progress", {"seconds": 30, "finished": True}).json()
    assert done["seconds_spent"] == 30 and done["finished_at"] and done["course_finished"] is False
    course = api.get(f"/academy/courses/{enrolled['bootcamp'].pk}").json()
    assert [item["finished_at"] is not None for item in course["lessons"]] == [True, False, False]
    assert len(course["quiz"]["questions"]) == 2 and "correct" not in str(course["quiz"])
    # anonymous: 401
    assert Api().get("/academy/courses").status_code == 401


def test_the_academy_schemas_do_not_replace_others_in_the_spec(db):
    """django-ninja names a schema by its class: a second ``ProgressOut`` would replace the upgrade
    progress's in the OpenAPI document."""
    spec = Api().get("/openapi.json").json()

    def answer(path: str, method: str) -> dict:
        ref = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        return spec["components"]["schemas"][ref.rsplit("/", 1)[1]]

    assert "seconds_spent" in answer("/api/v1/academy/lessons/{lesson_id}/progress", "post")["properties"]
    assert "seconds_spent" not in answer("/api/v1/progress", "get")["properties"]
