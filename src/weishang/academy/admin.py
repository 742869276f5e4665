"""The academy in the console (M12). Who may see and change what (core.roles):

- owner and operations (``academy.manage_all_courses``): every course with its lessons and quiz,
  slide decks, live classes, enrolments (enrol by hand, or a course's levels at once), course
  certificates, and the report (``academy.view_academy_report``: completion by level, retail per
  agent trained or not by month);
- a lecturer: only the courses they lecture (a course they add is theirs), their lessons, quizzes,
  live classes and enrolments; another lecturer's course is not found (the change page redirects
  with "doesn't exist", a POST changes nothing).
Nothing is deleted but a lesson, a question or a choice (an enrolment, attempt or certificate is a record)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, StackedInline, TabularInline
from unfold.decorators import action

from weishang.academy import selectors, services
from weishang.academy.files import lesson_media_check
from weishang.academy.models import (
    Choice,
    Course,
    CourseCertificate,
    EnrolledHow,
    Enrolment,
    Lesson,
    LiveAttendance,
    LiveClass,
    Question,
    Quiz,
    SlideDeck,
)
from weishang.channel.models import Agent
from weishang.console.kit import ReadOnlyAdmin, ReadOnlyInline, form_error
from weishang.core.converters import id_or_404
from weishang.core.errors import BusinessError


class LecturerScoped:
    """A lecturer sees and edits only what belongs to their own courses; ``course_path`` leads from
    the model to its course ("" for a course itself)."""

    course_path = "course"

    def _scope(self, request) -> Q:
        q = selectors.courses_editable_by(request.user)
        if not q or not self.course_path:
            return q
        return Q(**{f"{self.course_path}__{key}": value for key, value in q.children})  # type: ignore[misc]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(self._scope(request)).distinct()  # type: ignore[misc]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "course":
            kwargs["queryset"] = Course.objects.filter(selectors.courses_editable_by(request.user)).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]


class LessonForm(forms.ModelForm):
    class Meta:
        model = Lesson
        fields = ("position", "title", "kind", "body", "media", "link", "slides", "duration_seconds")

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        lesson = Lesson(
            kind=cleaned.get("kind"),
            body=cleaned.get("body") or "",
            link=cleaned.get("link") or "",
            slides=cleaned.get("slides"),
            media=self.instance.media if self.instance.pk else None,
        )
        upload = cleaned.get("media")
        try:
            services.lesson_check(lesson=lesson, upload=upload if isinstance(upload, UploadedFile) else None)
        except BusinessError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, str(exc.message))
        return cleaned


class LessonInline(StackedInline):
    model = Lesson
    form = LessonForm
    extra = 0
    ordering = ("position", "pk")


class QuizInline(StackedInline):
    model = Quiz
    extra = 0
    max_num = 1
    show_change_link = True
    fields = ("title", "pass_mark")


class CourseForm(forms.ModelForm):
    class Meta:
        model = Course
        fields = ("title", "kind", "summary", "min_level", "prerequisites", "lecturers", "join_link", "published")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "lecturers" in self.fields:
            self.fields["lecturers"].queryset = self.fields["lecturers"].queryset.filter(is_staff=True)
        if "prerequisites" in self.fields and self.instance.pk:
            self.fields["prerequisites"].queryset = Course.objects.exclude(pk=self.instance.pk)


@admin.register(Course)
class CourseAdmin(LecturerScoped, ModelAdmin):
    course_path = ""
    form = CourseForm
    list_display = ("title", "kind", "min_level", "published", "lessons_count", "enrolled", "finished")
    list_filter = ("kind", "published")
    search_fields = ("title",)
    readonly_fields = ("public_link", "published_at")
    inlines = (LessonInline, QuizInline)
    actions_detail = ["enrol_levels"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("min_level")
            .annotate(
                n_lessons=Count("lessons", distinct=True),
                n_enrolled=Count("enrolments", distinct=True),
                n_finished=Count("enrolments", filter=Q(enrolments__completed_at__isnull=False), distinct=True),
            )
        )

    def get_fields(self, request, obj=None):
        fields = ["title", "kind", "summary", "min_level", "prerequisites", "join_link", "published"]
        if request.user.has_perm("academy.manage_all_courses"):
            fields.insert(5, "lecturers")
        return fields if obj is None else [*fields, "published_at", "public_link"]

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or selectors.lecturer_may_edit(user=request.user, course=obj)

    @admin.display(description=_("lessons"), ordering="n_lessons")
    def lessons_count(self, obj):
        return getattr(obj, "n_lessons", 0)

    @admin.display(description=_("enrolled"), ordering="n_enrolled")
    def enrolled(self, obj):
        return getattr(obj, "n_enrolled", 0)

    @admin.display(description=_("finished"), ordering="n_finished")
    def finished(self, obj):
        return getattr(obj, "n_finished", 0)

    @admin.display(description=_("public page"))
    def public_link(self, obj):
        if obj.kind != "open" or not obj.public_token:
            return "—"
        url = reverse("web:academy_open", args=[obj.public_token])
        return format_html('<a class="text-primary-600 underline" href="{}" target="_blank">{}</a>', url, url)

    def save_model(self, request, obj, form, change):
        services.course_save(course=obj, by=request.user)  # the form required the title it checks

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not request.user.has_perm("academy.manage_all_courses"):
            form.instance.lecturers.add(request.user)  # a lecturer's new course is theirs

    # --- enrol by level, the report ---------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("report/", view(self.report_view), name="academy_course_report"), *super().get_urls()]

    def has_enrol_levels_permission(self, request, obj=None):
        return request.user.has_perm("academy.add_enrolment")

    @action(description=_("Enrol its levels"), url_path="enrol-levels", permissions=["enrol_levels"], icon="group_add")
    def enrol_levels(self, request, object_id):
        course = self.get_queryset(request).filter(pk=id_or_404(object_id)).first()
        if course is None or not self.has_enrol_levels_permission(request):
            raise PermissionDenied
        try:
            made = services.course_enrol_by_level(course=course, by=request.user)
        except BusinessError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, gettext("%(n)s agents enrolled.") % {"n": made})
        return redirect("admin:academy_course_change", course.pk)

    def report_view(self, request):
        """Completion by level, and retail per agent by month, trained (finished the bootcamp) or not."""
        if not request.user.has_perm("academy.view_academy_report"):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Academy report"),
            "opts": self.model._meta,
            "completion": selectors.completion_by_level(),
            "retail": selectors.retail_trained_by_month(selectors.last_months(6)),
        }
        return TemplateResponse(request, "admin/academy/report.html", context)


class ChoiceInline(TabularInline):
    model = Choice
    extra = 2
    fields = ("text", "correct")


@admin.register(Question)
class QuestionAdmin(LecturerScoped, ModelAdmin):
    course_path = "quiz__course"
    list_display = ("text", "quiz", "position")
    search_fields = ("text",)
    inlines = (ChoiceInline,)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "quiz":
            kwargs["queryset"] = Quiz.objects.filter(
                course__in=Course.objects.filter(selectors.courses_editable_by(request.user))
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class QuestionInline(TabularInline):
    model = Question
    extra = 1
    fields = ("position", "text")
    show_change_link = True


@admin.register(Quiz)
class QuizAdmin(LecturerScoped, ModelAdmin):
    list_display = ("title", "course", "pass_mark")
    search_fields = ("title", "course__title")
    inlines = (QuestionInline,)

    def has_delete_permission(self, request, obj=None):
        """A quiz someone has tried stays (its attempts are records)."""
        if obj is not None and obj.attempts.exists():
            return False
        return super().has_delete_permission(request, obj)


class SlideDeckForm(forms.ModelForm):
    class Meta:
        model = SlideDeck
        fields = ("title", "file")

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if isinstance(upload, UploadedFile):
            try:
                lesson_media_check(upload, kind="slides")
            except BusinessError as exc:
                raise forms.ValidationError(str(exc.message)) from None
        return upload


@admin.register(SlideDeck)
class SlideDeckAdmin(ModelAdmin):
    """Slides any lecturer may reuse in their lessons; each edits only the decks they uploaded."""

    form = SlideDeckForm
    list_display = ("title", "owner", "created_at")
    search_fields = ("title",)

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or request.user.has_perm("academy.manage_all_courses") or obj.owner_id == request.user.pk

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            obj.owner = request.user
        super().save_model(request, obj, form, change)


class AttendanceInline(ReadOnlyInline):
    model = LiveAttendance
    fields = ("agent", "checked_in_at")


@admin.register(LiveClass)
class LiveClassAdmin(LecturerScoped, ModelAdmin):
    list_display = ("title", "course", "starts_at", "lecturer", "attended", "reminded_at", "has_recording")
    list_filter = (("course", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("title",)
    fields = ("title", "course", "lecturer", "starts_at", "ends_at", "link", "min_level", "recording_link")
    inlines = (AttendanceInline,)

    def _scope(self, request) -> Q:
        q = selectors.courses_editable_by(request.user)
        return q if not q else Q(course__lecturers=request.user) | Q(lecturer=request.user)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_attended=Count("attendance", distinct=True))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "lecturer":
            kwargs["queryset"] = db_field.related_model.objects.filter(is_staff=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("attended"), ordering="n_attended")
    def attended(self, obj):
        return getattr(obj, "n_attended", 0)

    @admin.display(description=_("recording"), boolean=True)
    def has_recording(self, obj):
        return bool(obj.recording_link)

    def save_model(self, request, obj, form, change):
        if not change and obj.lecturer_id is None and not request.user.has_perm("academy.manage_all_courses"):
            obj.lecturer = request.user
        super().save_model(request, obj, form, change)


class EnrolForm(forms.Form):
    course = forms.ModelChoiceField(label=_("course"), queryset=Course.objects.none())
    agent_phone = forms.CharField(label=_("agent's mobile number"), max_length=20)


@admin.register(Enrolment)
class EnrolmentAdmin(LecturerScoped, ReadOnlyAdmin):
    """Enrolments are records (how, who enrolled, when): added by hand here, never edited."""

    list_display = ("agent", "course", "how", "enrolled_by", "enrolled_at", "completed_at")
    list_filter = ("how", ("course", admin.RelatedOnlyFieldListFilter))
    search_fields = ("agent__real_name", "agent__user__phone", "course__title")
    list_select_related = ("agent__level", "course", "enrolled_by")

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm("academy.add_enrolment")

    def add_view(self, request, form_url="", extra_context=None):
        """Enrol an agent by hand (by their mobile number), through ``course_enrol``."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = EnrolForm(request.POST or None)
        form.fields["course"].queryset = Course.objects.filter(
            selectors.courses_editable_by(request.user), published=True
        ).distinct()
        status = 200
        if request.method == "POST":
            status = 400
            if form.is_valid():
                agent = Agent.objects.filter(user__phone=form.cleaned_data["agent_phone"].strip()).first()
                if agent is None:
                    form.add_error("agent_phone", gettext("No agent has this mobile number."))
                else:
                    try:
                        services.course_enrol(
                            course=form.cleaned_data["course"], agent=agent, how=EnrolledHow.HAND, by=request.user
                        )
                    except BusinessError as exc:
                        status = form_error(form, exc)
                    else:
                        messages.success(request, gettext("Enrolled."))
                        return redirect("admin:academy_enrolment_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Enrol an agent"),
            "opts": self.model._meta,
            "form": form,
            "submit_label": gettext("Enrol"),
        }
        return TemplateResponse(request, "admin/console/form_page.html", context, status=status)


@admin.register(CourseCertificate)
class CourseCertificateAdmin(LecturerScoped, ReadOnlyAdmin):
    course_path = "enrolment__course"
    list_display = ("serial", "agent_name", "course_title", "issued_at")
    search_fields = ("serial", "agent_name", "course_title")
