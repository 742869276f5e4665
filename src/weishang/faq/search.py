"""Chinese full-text search for the FAQ: words segmented with jieba (rjieba), indexed by the
database — SQLite's FTS5 or PostgreSQL's full text ('simple' configuration, GIN index).

Why not a trigram index: a two-character word such as 结算 or 代理 makes no trigram, so a
trigram index cannot find it; and LIKE '%…%' reads every row. Segmenting first makes each word a
token both databases index as it is. The index text of an entry is its question and answer cut
"for search" (a long word also yields the shorter words inside it: 代理商 → 代理, 代理商), so a
query's word is found inside longer ones. A query is cut the same way; every word must match
(AND), ranked by the database (bm25 / ts_rank). Nothing of the query reaches SQL but as a bound
parameter, and FTS5 sees each word quoted, so its syntax (NEAR, *, :, -, OR, quotes) is only text.
"""

from __future__ import annotations

import re

import rjieba
from django.db import connection

# A word worth indexing: letters, digits or CJK; not punctuation or space.
WORD = re.compile(r"[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
MAX_QUERY = 100  # characters of a query that are read


def words(text: str, *, for_index: bool = False) -> list[str]:
    """The words of ``text``: lower-cased, no punctuation, each once, in order. ``for_index``: also
    the shorter words inside long ones (what an entry is indexed by)."""
    text = (text or "").replace("\x00", " ")
    cut = rjieba.cut_for_search(text) if for_index else rjieba.cut(text[:MAX_QUERY])
    seen: dict[str, None] = {}
    for token in cut:
        token = token.strip().lower()
        if token and WORD.search(token) and '"' not in token:
            seen.setdefault(token, None)
    return list(seen)


def index_text(question: str, answer: str) -> str:
    """The words an entry is found by: the question's twice (a word in the question ranks the
    entry above one that only mentions it in passing), then the answer's."""
    asked = words(question, for_index=True)
    return " ".join([*asked, *asked, *words(answer, for_index=True)])


def is_sqlite() -> bool:
    return connection.vendor == "sqlite"


def index_put(entry_id: int, terms: str) -> None:
    """Put an entry's words in the index (SQLite's FTS5 table; PostgreSQL indexes the column)."""
    if not is_sqlite():
        return
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM faq_index WHERE rowid = %s", [entry_id])
        cursor.execute("INSERT INTO faq_index (rowid, terms) VALUES (%s, %s)", [entry_id, terms])


def index_drop(entry_id: int) -> None:
    if is_sqlite():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM faq_index WHERE rowid = %s", [entry_id])


def ranked_ids(query_words: list[str], limit: int) -> list[int]:
    """Ids of the entries holding every word, best first."""
    if not query_words:
        return []
    with connection.cursor() as cursor:
        if is_sqlite():
            match = " ".join(f'"{word}"' for word in query_words)
            # Joined with the entries: an index row whose entry is gone (a table emptied without
            # the index, as a test database's flush does) never takes a place in the ranking.
            cursor.execute(
                "SELECT faq_index.rowid FROM faq_index JOIN faq_faqentry ON faq_faqentry.id = faq_index.rowid "
                "WHERE faq_index MATCH %s AND faq_faqentry.published ORDER BY bm25(faq_index) LIMIT %s",
                [match, limit],
            )
        else:
            cursor.execute(
                "SELECT id FROM faq_faqentry, plainto_tsquery('simple', %s) query "
                "WHERE to_tsvector('simple', terms) @@ query AND published "
                "ORDER BY ts_rank(to_tsvector('simple', terms), query) DESC, id LIMIT %s",
                [" ".join(query_words), limit],
            )
        return [row[0] for row in cursor.fetchall()]
