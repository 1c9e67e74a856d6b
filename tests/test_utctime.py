"""Time as text: the same string `datetime` writes, for any instant (the journal, job times and
callback attempts are read by clients that parse them)."""

from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import given
from hypothesis import strategies as st

from mock_server import utctime

# Whole seconds with fractions that round across a millisecond or a second.
EDGES = [0.0, 0.0009995, 0.0005, 0.9995, 0.9999995, 0.9999996, 0.123456]


@given(
    st.one_of(
        st.floats(min_value=-2e9, max_value=4e9, allow_nan=False),
        st.builds(
            lambda s, f: s + f, st.integers(-2_000_000_000, 4_000_000_000), st.sampled_from(EDGES)
        ),
    )
)
def test_the_text_is_what_datetime_writes(wall: float) -> None:
    moment = datetime.fromtimestamp(wall, tz=timezone.utc)
    assert utctime.text(wall, "+00:00") == moment.isoformat(timespec="milliseconds")
    assert utctime.text(wall) == moment.isoformat(timespec="milliseconds")[:-6] + "Z"
