"""The values of the settings that take one of a few words: the clock's modes, the validation
profiles, result keys, error statuses and what an unknown model id gets. Plain tuples that
import nothing, so the command line and the pytest plugin can offer them as choices without
loading the mock (`config.py` and `clock.py` check them)."""

from __future__ import annotations

MODES = ("realtime", "manual", "per-poll")  # the clock (clock.py)
PROFILES = ("default", "strict")
RESULT_KEYS = ("auto", "images", "videos", "musics")
ERROR_STATUSES = ("http", "200")
UNKNOWN_MODELS = ("reject", "accept")
STATUS_FORMS = ("number", "string")  # jobs/status.py: the statuses-as-strings variant
