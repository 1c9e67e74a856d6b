"""Statuses as the API reports them, and the stages of settling a job.

`Status` is an `IntEnum`, so the wire format stays the bare integers clients read: 0 queued,
1 processing, 2 succeeded, 3 failed (assumption A-status-codes).
"""

from __future__ import annotations

from enum import IntEnum


class Status(IntEnum):
    """A job's status as query answers it."""

    QUEUED = 0
    PROCESSING = 1
    SUCCEEDED = 2
    FAILED = 3


class Stage(IntEnum):
    """Which of a job's status changes have been acted on (`Job.stage`): refunds, in-flight
    counts and callbacks happen once per change, in whichever process gets there first."""

    NONE = 0  # nothing settled yet
    STARTED = 1  # processing has been settled
    DONE = 2  # the final status has been settled


FAILED_AS_4 = 4
"""What a failed job reports under the ``failed-status-4`` variant (A-failed-status-4): one
public client maps 3 and 4 to failed, so a client must treat any status above 2 as final."""

TERMINAL = (Status.SUCCEEDED, Status.FAILED, FAILED_AS_4)
"""The final statuses a job may report."""

WORDS = {
    Status.QUEUED: "queued",
    Status.PROCESSING: "processing",
    Status.SUCCEEDED: "succeeded",
    Status.FAILED: "failed",
    FAILED_AS_4: "failed",
}
"""Each status as a word, for the ``statuses-as-strings`` variant (runtime ``status_form``
"string", A-status-strings): the official ShortAPI agent skills tell agents to wait for
``status: "succeeded"``; which form the live API sends is not settled."""
