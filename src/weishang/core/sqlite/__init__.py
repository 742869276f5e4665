"""Django's SQLite backend, which creates the database file's directory when it opens the file and
queues writers in the application (``DATABASES[...]["ENGINE"] = "weishang.core.sqlite"``; see base)."""
