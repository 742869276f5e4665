from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AcademyConfig(AppConfig):
    """The academy (培训, M12): courses and their lessons, enrolments and progress, quizzes, course
    certificates, and live classes. A newcomer is enrolled in the bootcamp when they join (the
    outbox's ``agent.joined``)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.academy"
    label = "academy"
    verbose_name = _("academy (培训)")

    def ready(self) -> None:
        from weishang.academy.services import academy_follow_events
        from weishang.core.outbox import outbox_subscribe

        outbox_subscribe(academy_follow_events)
