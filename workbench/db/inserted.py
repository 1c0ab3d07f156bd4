"""The id of a row just inserted.

sqlite3 types ``Cursor.lastrowid`` and sqlite_utils ``Table.last_pk`` as optional: they
are None only before any INSERT. Right after one, these give the id as an int.
"""

from __future__ import annotations

import sqlite3

from sqlite_utils.db import Table


def inserted_rowid(cursor: sqlite3.Cursor) -> int:
    """The rowid of the row the INSERT just executed on ``cursor`` added."""
    rowid = cursor.lastrowid
    assert rowid is not None, "called right after an INSERT on this cursor"
    return rowid


def inserted_pk(table: Table) -> int:
    """The primary key of the row ``table.insert`` just added (an INTEGER PRIMARY KEY)."""
    pk = table.last_pk
    assert pk is not None, "called right after table.insert"
    return pk
