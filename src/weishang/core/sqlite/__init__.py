"""Django's SQLite backend, which creates the database file's directory when it opens the file
(``DATABASES[...]["ENGINE"] = "weishang.core.sqlite"``): settings name ``var/`` without creating it."""
