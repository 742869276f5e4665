from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django_tasks_db.apps import TasksAppConfig


class JobsConfig(AppConfig):
    """The worker (M13): ``weishang worker`` runs Django Tasks stored in the database
    (django-tasks-db), the periodic jobs of ``jobs/schedule.py`` and the outbox's consumers, with
    leases so a task whose worker died runs again, and retries with back-off."""

    default = True  # the app's config (this module also holds django-tasks-db's, below)
    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.jobs"
    label = "jobs"
    verbose_name = _("background jobs (后台任务)")


class TaskQueueConfig(TasksAppConfig):
    """django-tasks-db (the task table), titled in the console's words: its app name is English
    and untranslated; its task table is shown on the 后台任务 page, not as a page of its own."""

    verbose_name = _("task queue (任务队列)")
