"""The application core: the project folder, its database, jobs, the worker and the CLI."""

from workbench.lean_imports import import_sqlite_utils_without_pandas

# sqlite_utils imports pandas when it is installed, only to map pandas.Timestamp to a
# column type we never use; that costs the window about half a second at start-up.
import_sqlite_utils_without_pandas()
