"""The console's own pages on the admin site: the dashboard is the index (its figures come from
``weishang.console.dashboard`` through unfold's DASHBOARD_CALLBACK)."""

from django.contrib import admin

admin.site.index_template = "console/index.html"
