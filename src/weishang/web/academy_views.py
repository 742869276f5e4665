"""The academy on the phone (M12). Who may see and change what:

- ``/m/academy/`` 我的课程 (an agent): my enrolments, where to continue, courses open to my level,
  upcoming live classes. Only my own.
- ``/m/academy/courses/<id>/`` (an agent whose level the course is for; 403 with the reason for a
  lower level, 404 for an unpublished or unknown course); ``…/enrol/`` (POST) enrols me in it after
  its prerequisites.
- ``/m/academy/lessons/<id>/`` and its ``progress/`` (POST: seconds spent, finished), ``media/`` and
  ``slides/`` (the files): only a lesson of a course I am enrolled in (403 otherwise).
- ``/m/academy/courses/<id>/quiz/``: the course's quiz, answered by an enrolled agent.
- ``/m/academy/certificates/`` 我的证书 and each one's PNG and PDF: my own only (404 for anyone else's).
- ``/m/academy/team/`` (an upline): my team's progress; ``…/team/<id>/`` a member of my team only (404).
- ``/m/academy/live/<id>/``: a live class for my level, and checking in to it (POST).
- ``/academy/open/<code>/`` (public, no login): an open recruitment class and its lead form
  (rate-limited); ``?from=<invite code>`` gives the lead to the agent who shared it.
- ``/verify/course/`` (public): a course certificate by its number (rate-limited).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from weishang.academy import selectors, services
from weishang.academy.files import media_response
from weishang.academy.models import CourseKind, LessonKind
from weishang.channel import selectors as channel_selectors
from weishang.core import converters
from weishang.core.errors import BusinessError
from weishang.core.ratelimit import allow
from weishang.core.selectors import brand_get
from weishang.leads.models import LeadChannel
from weishang.leads.services import lead_capture
from weishang.web.agents import current_agent
from weishang.web.regions import RegionField


class LeadForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Full name"), max_length=50)
    phone = forms.CharField(
        label=gettext_lazy("Mobile number"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    region = RegionField(finest=False, required=False, label=gettext_lazy("Where you live (optional)"))


class ProgressForm(forms.Form):
    seconds = forms.IntegerField(min_value=0, max_value=services.REPORT_MAX_SECONDS, required=False)
    finished = forms.BooleanField(required=False)


class LookupForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Certificate number"), max_length=40)


def _page(request, template: str, context: dict, status: int = 200):
    return render(request, template, {"brand": brand_get(), **context}, status=status)


def _closed(request, reason: str):
    return _page(request, "web/academy/closed.html", {"reason": reason}, status=403)


@login_required
def my_courses(request):
    me = current_agent(request)
    return _page(
        request,
        "web/academy/my_courses.html",
        {
            "me": me,
            "cards": selectors.my_courses(agent=me),
            "more": selectors.more_courses(agent=me),
            "live": selectors.upcoming_live_classes(me),
            "has_team": channel_selectors.team_size(agent=me) > 1,
        },
    )


def _course(request, course_id: int):
    me = current_agent(request)
    course = selectors.course_for(agent=me, course_id=course_id)
    if course is None:
        raise Http404
    enrolment = selectors.enrolment_of(agent=me, course=course)
    return me, course, enrolment


@login_required
def course_page(request, course_id: int):
    me, course, enrolment = _course(request, course_id)
    reason = selectors.why_closed(agent=me, course=course, enrolment=enrolment)
    if reason and enrolment is None and not selectors.level_allows(agent=me, min_level=course.min_level):
        return _closed(request, reason)
    quiz = getattr(course, "quiz", None)
    return _page(
        request,
        "web/academy/course.html",
        {
            "me": me,
            "course": course,
            "enrolment": enrolment,
            "reason": reason,
            "rows": selectors.lesson_rows(course=course, enrolment=enrolment),
            "quiz": quiz if quiz is not None and quiz.questions.exists() else None,
            "best": selectors.best_attempt(enrolment) if enrolment else None,
            "next_lesson": selectors.next_lesson(enrolment) if enrolment and not enrolment.completed_at else None,
            "open_link": request.build_absolute_uri(reverse("web:academy_open", args=[course.public_token]))
            + f"?from={me.invite_code}"
            if course.kind == CourseKind.OPEN
            else "",
        },
    )


@login_required
@require_POST
def course_enrol(request, course_id: int):
    me, course, _enrolment = _course(request, course_id)
    try:
        services.course_enrol(course=course, agent=me, how="self", by=request.user)
    except BusinessError as exc:
        if exc.status == 403:
            return _closed(request, str(exc.message))
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("You are enrolled: start with the first lesson."))
    return redirect("web:academy_course", course.pk)


def _lesson(request, lesson_id: int):
    me = current_agent(request)
    lesson = selectors.lesson_for(lesson_id=lesson_id)
    if lesson is None:
        raise Http404
    return me, lesson


@login_required
def lesson_page(request, lesson_id: int):
    me, lesson = _lesson(request, lesson_id)
    try:
        progress = services.lesson_open(agent=me, lesson=lesson)
    except BusinessError as exc:
        if exc.status == 404:
            raise Http404 from None
        return _closed(request, str(exc.message))
    previous, following = selectors.neighbours(lesson)
    return _page(
        request,
        "web/academy/lesson.html",
        {
            "me": me,
            "lesson": lesson,
            "course": lesson.course,
            "progress": progress,
            "previous": previous,
            "following": following,
            "kinds": LessonKind,
        },
    )


@login_required
@require_POST
def lesson_progress(request, lesson_id: int):
    """Seconds spent (sent by the page's player every half minute, as JSON back) or the lesson
    finished (the button: back to the page)."""
    me, lesson = _lesson(request, lesson_id)
    form = ProgressForm(request.POST)
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    if not form.is_valid():
        if wants_json:
            return JsonResponse({"error": _("Seconds are a whole number from 0 to 3600.")}, status=400)
        messages.error(request, _("Seconds are a whole number from 0 to 3600."))
        return redirect("web:academy_lesson", lesson.pk)
    try:
        row = services.lesson_progress_record(
            agent=me, lesson=lesson, seconds=form.cleaned_data["seconds"] or 0, finished=form.cleaned_data["finished"]
        )
    except BusinessError as exc:
        if wants_json:
            return JsonResponse({"error": str(exc.message)}, status=exc.status)
        if exc.status == 403:
            return _closed(request, str(exc.message))
        messages.error(request, str(exc.message))
        return redirect("web:academy_lesson", lesson.pk)
    if wants_json:
        return JsonResponse({"seconds": row.seconds_spent, "finished": row.finished_at is not None})
    enrolment = selectors.enrolment_of(agent=me, course=lesson.course)
    if enrolment is not None and enrolment.completed_at is not None:
        messages.success(request, _("Course finished: your certificate is ready."))
        return redirect("web:academy_certificates")
    messages.success(request, _("Lesson finished."))
    _previous, following = selectors.neighbours(lesson)
    if following is not None:
        return redirect("web:academy_lesson", following.pk)
    return redirect("web:academy_course", lesson.course_id)


def _lesson_file(request, lesson_id: int, which: str):
    me, lesson = _lesson(request, lesson_id)
    if selectors.enrolment_of(agent=me, course=lesson.course) is None:
        raise Http404
    if which == "slides":
        if lesson.slides is None:
            raise Http404
        return media_response(lesson.slides.file)
    return media_response(lesson.media)


@login_required
def lesson_media(request, lesson_id: int):
    return _lesson_file(request, lesson_id, "media")


@login_required
def lesson_slides(request, lesson_id: int):
    return _lesson_file(request, lesson_id, "slides")


@login_required
def quiz_page(request, course_id: int):
    me, course, enrolment = _course(request, course_id)
    quiz = getattr(course, "quiz", None)
    if quiz is None:
        raise Http404
    if enrolment is None:
        reason = selectors.why_closed(agent=me, course=course, enrolment=None)
        return _closed(request, reason or _("You are not enrolled in this course."))
    questions = list(quiz.questions.prefetch_related("choices"))
    attempt, error, status, picked = None, "", 200, {}
    if request.method == "POST":
        answers = {}
        for question in questions:
            values = request.POST.getlist(f"q{question.pk}")[:50]
            if values:
                answers[str(question.pk)] = values
        picked = {int(k): {int(v) for v in vals if converters.id_or_none(v) is not None} for k, vals in answers.items()}
        try:
            attempt = services.quiz_attempt_submit(agent=me, quiz=quiz, answers=answers)
        except BusinessError as exc:
            error, status = str(exc.message), exc.status
    for question in questions:
        question.picked = picked.get(question.pk, set())
    enrolment.refresh_from_db()
    return _page(
        request,
        "web/academy/quiz.html",
        {
            "course": course,
            "quiz": quiz,
            "questions": questions,
            "attempt": attempt,
            "error": error,
            "enrolment": enrolment,
            "best": selectors.best_attempt(enrolment),
        },
        status=status,
    )


@login_required
def my_certificates(request):
    me = current_agent(request)
    return _page(request, "web/academy/certificates.html", {"me": me, "certificates": selectors.certificates_of(me)})


def _verify_url(request, serial: str) -> str:
    return request.build_absolute_uri(reverse("web:verify_course")) + f"?q={serial}"


def _certificate_file(request, certificate_id: int, kind: str) -> HttpResponse:
    me = current_agent(request)
    certificate = selectors.certificates_of(me).filter(pk=certificate_id).first()
    if certificate is None:
        raise Http404
    url = _verify_url(request, certificate.serial)
    if kind == "png":
        response = HttpResponse(selectors.certificate_png(certificate, verify_url=url), content_type="image/png")
    else:
        response = HttpResponse(selectors.certificate_pdf(certificate, verify_url=url), content_type="application/pdf")
    disposition = "inline" if kind == "png" and "download" not in request.GET else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="course-{certificate.serial}.{kind}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def certificate_png(request, certificate_id: int):
    return _certificate_file(request, certificate_id, "png")


@login_required
def certificate_pdf(request, certificate_id: int):
    return _certificate_file(request, certificate_id, "pdf")


@login_required
def team_progress(request):
    me = current_agent(request)
    courses, members = selectors.team_progress(agent=me)
    return _page(request, "web/academy/team.html", {"me": me, "courses": courses, "members": members})


@login_required
def team_member(request, agent_id: int):
    me = current_agent(request)
    member = selectors.team_member(viewer=me, member_id=agent_id)
    if member is None:
        raise Http404
    return _page(
        request, "web/academy/member.html", {"me": me, "member": member, "cards": selectors.my_courses(agent=member)}
    )


@login_required
def live_page(request, live_id: int):
    me = current_agent(request)
    live = selectors.live_classes_for(me).filter(pk=live_id).first()
    if live is None:
        raise Http404
    status = 200
    if request.method == "POST":
        try:
            services.live_class_checkin(agent=me, live_class=live)
        except BusinessError as exc:
            messages.error(request, str(exc.message))
            status = 400
        else:
            messages.success(request, _("Checked in."))
            return redirect("web:academy_live", live.pk)
    checked = live.attendance.filter(agent=me).first()
    return _page(request, "web/academy/live.html", {"me": me, "live": live, "checked": checked}, status=status)


def open_class(request, token: str):
    """An open recruitment class (no login): what it is about, where to listen, and the lead form."""
    if request.method == "POST" and not allow(request, "public"):
        response = _page(request, "web/academy/open.html", {"limited": True}, status=429)
        response["Retry-After"] = "60"
        return response
    course = selectors.published_courses().filter(kind=CourseKind.OPEN, public_token=token[:40]).first()
    if course is None:
        raise Http404
    sharer = channel_selectors.agent_by_invite_code(request.GET.get("from", "")[:12])
    form = LeadForm(request.POST if request.method == "POST" else None)
    status, done = 200, False
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                lead_capture(
                    name=data["name"],
                    phone=data["phone"],
                    region=data["region"],
                    channel=LeadChannel.REFERRAL if sharer else LeadChannel.OTHER,
                    owner_agent=sharer,
                    note=_("Open class: %(title)s") % {"title": course.title},
                )
            except BusinessError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
            else:
                status, done = 200, True
    return _page(
        request,
        "web/academy/open.html",
        {"course": course, "lessons": course.lessons.order_by("position", "pk"), "form": form, "done": done},
        status=status,
    )


def verify_course(request):
    """A course certificate checked by its number (no login; the QR code opens ``?q=<number>``)."""
    if "q" in request.GET and not allow(request, "public"):
        response = _page(request, "web/academy/verify.html", {"limited": True}, status=429)
        response["Retry-After"] = "60"
        return response
    form = LookupForm(request.GET if "q" in request.GET else None)
    answer, status, searched = None, 200, False
    if form.is_bound:
        if form.is_valid():
            searched = True
            answer = selectors.certificate_lookup(form.cleaned_data["q"])
        else:
            status = 400
    return _page(
        request, "web/academy/verify.html", {"form": form, "answer": answer, "searched": searched}, status=status
    )
