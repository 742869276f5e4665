"""Django's SQLite backend, creating the database file's directory (``var/`` by default) the first
time a connection opens the file, instead of when settings are imported: ``make messages``, ``weishang
help`` or any import of the settings leave the working directory as they found it, and ``weishang
migrate``, the tests' per-process databases (``var/test-<pid>.sqlite3``) and the server still find
their directory there."""

from __future__ import annotations

from pathlib import Path

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        if not self.is_in_memory_db():
            Path(self.settings_dict["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        return super().get_new_connection(conn_params)
