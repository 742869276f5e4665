"""The console's 后台任务 page (M13): who sees the workers, the schedule and the tasks, who may run a
job now, and that a job run from the page is done by the next worker and shown as done."""

from __future__ import annotations

import pytest
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from weishang.jobs.models import ScheduledRun
from weishang.jobs.schedule import JOBS
from weishang.jobs.worker import Worker

PAGE = "/console/jobs/scheduledrun/overview/"
RUN = "/console/jobs/scheduledrun/run/{}/"

pytestmark = pytest.mark.django_db(transaction=True)


def _client(client, user):
    client.force_login(user)
    return client


def test_the_owner_runs_a_job_now_and_sees_it_done(client, staff):
    owner = _client(client, staff("owner"))
    page = owner.get(PAGE).content.decode()
    assert "后台任务" in page and "解冻到期的奖励" in page and "每 60 分钟" in page
    assert 'data-testid="no-worker"' in page  # nothing runs the queue yet: said plainly
    assert f'data-run="{JOBS[0].name}"' in page

    response = owner.post(RUN.format("rewards-release"))
    assert response.status_code == 302 and response["Location"].endswith(PAGE)
    run = ScheduledRun.objects.get(job="rewards-release")
    assert run.slot.startswith("now:")
    assert DBTaskResult.objects.get(pk=run.task_id).status == TaskResultStatus.READY

    Worker(worker_id="w-page", schedule=False, interval=0.01).run(once=True)
    page = owner.get(PAGE).content.decode()
    row = page.split('data-job="rewards-release"', 1)[1].split("</tr>", 1)[0]
    assert 'data-state="SUCCESSFUL"' in row and "解冻奖励条数: 0" in row
    worker = page.split('data-worker="w-page"', 1)[1].split("</tr>", 1)[0]
    assert 'data-state="stopped"' in worker


def test_operations_and_finance_see_the_page_but_do_not_run_jobs(client, staff):
    for role in ("operations", "finance"):
        user = _client(client, staff(role))
        page = user.get(PAGE)
        assert page.status_code == 200 and "data-run=" not in page.content.decode()
        assert user.post(RUN.format("settle")).status_code == 403
    assert not ScheduledRun.objects.exists() and not DBTaskResult.objects.exists()


def test_other_roles_and_agents_are_refused(client, staff):
    for role in ("warehouse", "lecturer", None):
        user = _client(client, staff(role))
        assert user.get(PAGE).status_code in (302, 403)
        assert user.post(RUN.format("settle")).status_code in (302, 403)
    client.logout()
    assert client.get(PAGE).status_code == 302  # to the login page
    assert not ScheduledRun.objects.exists()


def test_an_unknown_job_or_a_get_changes_nothing(client, staff):
    owner = _client(client, staff("owner"))
    assert owner.get(RUN.format("settle")).status_code == 405
    response = owner.post(RUN.format("no-such-job"), follow=True)
    assert response.status_code == 200 and "没有这个任务" in response.content.decode()
    assert not ScheduledRun.objects.exists() and not DBTaskResult.objects.exists()
