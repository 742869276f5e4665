"""The academy in the console: a lecturer sees and edits only the courses they lecture (another
lecturer's course is not found, a POST to it changes nothing) and a course they add is theirs; the
owner sees all and the report; enrolling by hand goes through the service; a bad lesson file or an
over-long title is a form error."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.academy.conftest import make_course
from weishang.academy.models import Course, Enrolment, Lesson
from weishang.core.roles import role_group_name, roles_sync

pytestmark = pytest.mark.django_db
_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def staff(db):
    roles_sync()

    def make(role: str) -> Client:
        user = get_user_model().objects.create_user(
            username=f"{role}-{next(_seq)}", password="staff-pass-123", is_staff=True
        )
        user.groups.add(Group.objects.get(name=role_group_name(role)))
        client = Client()
        client.force_login(user)
        client.user = get_user_model().objects.get(pk=user.pk)
        return client

    return make


def course_form(title="新课", **extra) -> dict:
    return {
        "title": title,
        "kind": "level",
        "summary": "",
        "min_level": "",
        "join_link": "",
        "published": "on",
        "lessons-TOTAL_FORMS": "0",
        "lessons-INITIAL_FORMS": "0",
        "quiz-TOTAL_FORMS": "0",
        "quiz-INITIAL_FORMS": "0",
        **extra,
    }


def test_a_lecturer_cannot_edit_another_lecturers_course(world, staff):
    alice, bob = staff("lecturer"), staff("lecturer")
    mine = make_course("爱丽丝的课", lessons=0)
    mine.lecturers.add(alice.user)
    theirs = make_course("鲍勃的课", lessons=0)
    theirs.lecturers.add(bob.user)
    listing = alice.get("/console/academy/course/").content.decode()
    assert "爱丽丝的课" in listing and "鲍勃的课" not in listing
    assert alice.get(f"/console/academy/course/{mine.pk}/change/").status_code == 200
    assert alice.get(f"/console/academy/course/{theirs.pk}/change/").status_code == 302  # "doesn't exist"
    response = alice.post(f"/console/academy/course/{theirs.pk}/change/", course_form("改名了"))
    assert response.status_code == 302
    theirs.refresh_from_db()
    assert theirs.title == "鲍勃的课"
    # nor its lessons, through the lesson-free pages (quizzes, live classes, enrolments)
    assert "鲍勃的课" not in alice.get("/console/academy/enrolment/").content.decode()
    # the owner sees and edits both
    owner = staff("owner")
    listing = owner.get("/console/academy/course/").content.decode()
    assert "爱丽丝的课" in listing and "鲍勃的课" in listing
    assert owner.post(f"/console/academy/course/{theirs.pk}/change/", course_form("鲍勃的新课")).status_code == 302
    theirs.refresh_from_db()
    assert theirs.title == "鲍勃的新课"


def test_a_course_a_lecturer_adds_is_theirs(world, staff):
    alice = staff("lecturer")
    response = alice.post("/console/academy/course/add/", course_form("爱丽丝新开的课"))
    assert response.status_code == 302, response.content.decode()[:2000]
    course = Course.objects.get(title="爱丽丝新开的课")
    assert list(course.lecturers.all()) == [alice.user] and course.public_token and course.published_at


def test_over_long_title_and_a_bad_lesson_file_are_form_errors(world, staff):
    owner = staff("owner")
    assert owner.post("/console/academy/course/add/", course_form("长" * 300)).status_code == 200
    assert not Course.objects.filter(title__startswith="长长").exists()
    course = make_course("音频课", lessons=0)
    data = course_form(
        "音频课",
        **{
            "lessons-TOTAL_FORMS": "1",
            "lessons-0-position": "1",
            "lessons-0-title": "第一课",
            "lessons-0-kind": "audio",
            "lessons-0-body": "",
            "lessons-0-link": "",
            "lessons-0-duration_seconds": "60",
            "lessons-0-media": SimpleUploadedFile("a.mp3", b"<html>not audio</html>", content_type="audio/mpeg"),
        },
    )
    response = owner.post(f"/console/academy/course/{course.pk}/change/", data)
    assert response.status_code == 200 and "MP3" in response.content.decode()
    assert not Lesson.objects.filter(course=course).exists()
    data["lessons-0-media"] = SimpleUploadedFile(
        "lesson-one.mp3", b"ID3\x03\x00" + b"\x00" * 200, content_type="audio/mpeg"
    )
    assert owner.post(f"/console/academy/course/{course.pk}/change/", data).status_code == 302
    lesson = Lesson.objects.get(course=course)
    # stored under a random hex name, never the uploader's ("lesson-one" holds letters hex does not)
    assert lesson.media.name.endswith(".mp3") and "lesson-one" not in lesson.media.name


def test_enrolling_by_hand_and_by_level(world, staff):
    owner = staff("owner")
    bad = owner.post("/console/academy/enrolment/add/", {"course": world["gated"].pk, "agent_phone": "1" * 30})
    assert bad.status_code == 400
    refused = owner.post(
        "/console/academy/enrolment/add/", {"course": world["gated"].pk, "agent_phone": world["newcomer"].phone}
    )
    assert refused.status_code == 403 or refused.status_code == 400
    assert "市代及以上" in refused.content.decode()
    ok = owner.post(
        "/console/academy/enrolment/add/", {"course": world["gated"].pk, "agent_phone": world["upline"].phone}
    )
    assert ok.status_code == 302
    enrolment = Enrolment.objects.get(course=world["gated"])
    assert enrolment.how == "hand" and enrolment.enrolled_by == owner.user
    response = owner.get(f"/console/academy/course/{world['bootcamp'].pk}/enrol-levels/")
    assert response.status_code == 302
    assert Enrolment.objects.filter(course=world["bootcamp"]).count() == 4


def test_the_report_is_the_owners_not_the_lecturers(world, staff):
    assert staff("owner").get("/console/academy/course/report/").status_code == 200
    assert staff("lecturer").get("/console/academy/course/report/").status_code == 403
    assert staff("warehouse").get("/console/academy/course/").status_code == 403
