"""Every status the app reports, spelled once: a run's, a 2-D path's and an LR sweep's.

They are ``StrEnum``s, so a member *is* its string: ``RunStatus.FINISHED == "finished"``, a member
writes into CSV and JSON as its plain value, and a file read back compares equal. Views show these
words and nothing else (a test checks that every status word the window shows comes from here).
"""
from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """A training run: waiting, training, held, then one of the four final statuses."""
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"        # every planned step taken
    DIVERGED = "diverged"        # the loss blew up or became non-finite (the message says which)
    STOPPED = "stopped"          # the user asked
    ERROR = "error"              # the run itself failed (its message says why)

    @property
    def final(self) -> bool:
        """Whether the run is over: no status follows a final one."""
        return self in FINAL


FINAL: frozenset[RunStatus] = frozenset({RunStatus.FINISHED, RunStatus.DIVERGED, RunStatus.STOPPED,
                                         RunStatus.ERROR})


class PathStatus(StrEnum):
    """How an optimizer's path on a 2-D surface ended (the Trajectories lab)."""
    FINISHED = "finished"        # ran all steps
    LEFT_BOX = "left_box"        # left the plotted box
    NON_FINITE = "non_finite"    # a coordinate or the loss became NaN or infinite


class SweepStatus(StrEnum):
    """Why a learning-rate range test ended (the LR finder)."""
    FINISHED = "finished"        # every planned step was taken
    DIVERGED = "diverged"        # the smoothed loss rose past STOP_FACTOR x its best
    NON_FINITE = "non_finite"    # a batch loss was NaN or infinite
    STOPPED = "stopped"          # the user asked
