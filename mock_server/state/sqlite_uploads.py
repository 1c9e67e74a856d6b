"""The SQLite store's uploaded images (table ``uploads``): bytes in a BLOB, so every worker on
the state file serves every upload; bounded by count and total bytes, the oldest dropped."""

from __future__ import annotations

from mock_server.state.protocol import Upload
from mock_server.state.sqlite_db import Database

# Rows past the newest `max_count`, or past `max_bytes` counted from the newest; the newest
# row itself is always kept.
_TRIM = """
DELETE FROM uploads WHERE seq IN (
    SELECT seq FROM (
        SELECT seq,
               ROW_NUMBER() OVER (ORDER BY seq DESC) AS n,
               SUM(size) OVER (ORDER BY seq DESC) AS total
        FROM uploads
    ) WHERE n > 1 AND (n > ? OR total > ?)
)
"""


def put_upload(db: Database, upload: Upload, *, max_count: int, max_bytes: int) -> None:
    """Store `upload` as the newest (replacing the same id), then drop what is over the bounds."""
    with db.write() as conn:
        conn.execute("DELETE FROM uploads WHERE id = ?", (upload.id,))
        conn.execute(
            "INSERT INTO uploads (id, content_type, size, data) VALUES (?, ?, ?, ?)",
            (upload.id, upload.content_type, len(upload.data), upload.data),
        )
        conn.execute(_TRIM, (max_count, max_bytes))


def get_upload(db: Database, upload_id: str) -> Upload | None:
    """Return the upload `upload_id`, or None if it is not (or no longer) kept."""
    row = (
        db.connection()
        .execute("SELECT content_type, data FROM uploads WHERE id = ?", (upload_id,))
        .fetchone()
    )
    return Upload(upload_id, str(row[0]), bytes(row[1])) if row else None
