"""The task lifecycle as a state machine folded from events."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from domain import events as ev
from domain.errors import IllegalTransitionError
from domain.tasks import Task, TaskStatus, fold, submitted


def submission(task_id: str = "t1") -> ev.TaskSubmitted:
    return ev.TaskSubmitted(task_id=task_id, version=1, task_type="update_norms")


def queued(task_id: str = "t1") -> Task:
    return submitted(submission(task_id))


def test_a_submitted_task_is_queued_at_version_one():
    task = queued()

    assert task.status is TaskStatus.QUEUED
    assert task.version == 1


def test_a_task_runs_then_succeeds_with_its_report():
    task = queued()

    task = task.apply(ev.TaskStarted(task_id="t1", version=2))
    task = task.apply(ev.TaskProgressed(task_id="t1", version=3, percent=40, done=4))
    task = task.apply(ev.TaskSucceeded(task_id="t1", version=4, report={"added": 3}))

    assert task.status is TaskStatus.SUCCEEDED
    assert task.percent == 100
    assert task.report == {"added": 3}
    assert task.finished_at is not None


def test_a_failed_task_keeps_the_error():
    task = queued().apply(ev.TaskStarted(task_id="t1", version=2))

    task = task.apply(
        ev.TaskFailed(task_id="t1", version=3, error_type="OSError", message="gone")
    )

    assert task.status is TaskStatus.FAILED
    assert task.error == {"type": "OSError", "message": "gone", "attempt": 1}


@pytest.mark.parametrize(
    "terminal",
    [
        ev.TaskSucceeded(task_id="t1", version=3),
        ev.TaskFailed(task_id="t1", version=3, error_type="E", message="m"),
    ],
)
def test_nothing_starts_after_a_terminal_event(terminal):
    task = queued().apply(ev.TaskStarted(task_id="t1", version=2)).apply(terminal)

    with pytest.raises(IllegalTransitionError, match="finished"):
        task.apply(ev.TaskStarted(task_id="t1", version=4, attempt=2))


def test_progress_never_goes_back():
    task = queued().apply(ev.TaskStarted(task_id="t1", version=2))
    task = task.apply(ev.TaskProgressed(task_id="t1", version=3, percent=50))

    with pytest.raises(IllegalTransitionError, match="never goes back"):
        task.apply(ev.TaskProgressed(task_id="t1", version=4, percent=20))


def test_a_queued_task_cannot_succeed_without_starting():
    with pytest.raises(IllegalTransitionError, match="only a running task"):
        queued().apply(ev.TaskSucceeded(task_id="t1", version=2))


def test_the_same_attempt_cannot_start_twice():
    task = queued().apply(ev.TaskStarted(task_id="t1", version=2, attempt=1))

    with pytest.raises(IllegalTransitionError, match="already started"):
        task.apply(ev.TaskStarted(task_id="t1", version=3, attempt=1))


def test_a_running_task_whose_worker_died_starts_a_new_attempt():
    task = queued().apply(ev.TaskStarted(task_id="t1", version=2, attempt=1))

    task = task.apply(ev.TaskStarted(task_id="t1", version=3, attempt=2))

    assert task.attempt == 2
    assert task.status is TaskStatus.RUNNING


def test_an_event_out_of_version_order_is_refused():
    with pytest.raises(IllegalTransitionError, match="version 3 is not 2"):
        queued().apply(ev.TaskStarted(task_id="t1", version=3))


def test_a_history_that_does_not_open_with_a_submission_is_refused():
    with pytest.raises(IllegalTransitionError, match="never submitted"):
        fold([ev.TaskStarted(task_id="t1", version=1)])


def test_norm_events_are_recorded_only_while_running():
    norm_event = ev.NormSuperseded(task_id="t1", version=2, code="A", superseded_by="B")

    with pytest.raises(IllegalTransitionError):
        queued().apply(norm_event)


class TaskLifecycle(RuleBasedStateMachine):
    """Random event sequences: the fold accepts exactly the legal ones, and what it
    accepted always satisfies the lifecycle's invariants."""

    def __init__(self):
        super().__init__()
        first = submission()
        self.task = submitted(first)
        self.history: list[ev.Event] = [first]

    def _try(self, event: ev.Event) -> bool:
        try:
            self.task = self.task.apply(event)
        except IllegalTransitionError:
            return False
        self.history.append(event)
        return True

    def _next(self) -> int:
        return self.task.version + 1

    @rule(attempt=st.integers(min_value=1, max_value=4))
    def start(self, attempt):
        before = self.task
        legal = (
            not before.status.is_terminal
            and not before.cancel_requested
            and (before.status is TaskStatus.QUEUED or attempt > before.attempt)
        )
        accepted = self._try(
            ev.TaskStarted(task_id="t1", version=self._next(), attempt=attempt)
        )
        assert accepted == legal

    @rule(percent=st.floats(min_value=-10, max_value=120), done=st.integers(0, 50))
    def progress(self, percent, done):
        before = self.task
        legal = (
            before.status is TaskStatus.RUNNING
            and 0 <= percent <= 100
            and percent >= before.percent
            and done >= before.done
        )
        accepted = self._try(
            ev.TaskProgressed(
                task_id="t1", version=self._next(), percent=percent, done=done
            )
        )
        assert accepted == legal

    @rule(success=st.booleans())
    def finish(self, success):
        legal = self.task.status is TaskStatus.RUNNING
        event = (
            ev.TaskSucceeded(task_id="t1", version=self._next())
            if success
            else ev.TaskFailed(
                task_id="t1", version=self._next(), error_type="E", message="m"
            )
        )
        assert self._try(event) == legal

    @rule()
    def request_cancel(self):
        legal = not self.task.status.is_terminal and not self.task.cancel_requested
        event = ev.TaskCancelRequested(task_id="t1", version=self._next())
        assert self._try(event) == legal

    @rule()
    def cancel(self):
        legal = not self.task.status.is_terminal and self.task.cancel_requested
        event = ev.TaskCancelled(task_id="t1", version=self._next())
        assert self._try(event) == legal

    @rule(attempt=st.integers(min_value=1, max_value=4))
    def schedule_retry(self, attempt):
        legal = self.task.status is TaskStatus.RUNNING
        event = ev.TaskRetryScheduled(
            task_id="t1",
            version=self._next(),
            attempt=attempt,
            delay_s=1.0,
            retry_at="2026-12-03T00:00:00+00:00",
            error_type="E",
            message="m",
        )
        assert self._try(event) == legal

    @rule()
    def dead_letter(self):
        legal = not self.task.status.is_terminal
        event = ev.TaskDeadLettered(
            task_id="t1", version=self._next(), attempts=1, error_type="E", message="m"
        )
        assert self._try(event) == legal

    @invariant()
    def a_cancel_pending_task_never_starts_again(self):
        if self.task.cancel_requested and self.task.status is TaskStatus.QUEUED:
            started = ev.TaskStarted(task_id="t1", version=self._next(), attempt=99)
            assert not self._try(started)

    @precondition(lambda self: self.task.version > 1)
    @rule()
    def replay_of_an_old_version_is_refused(self):
        stale = ev.TaskProgressed(task_id="t1", version=self.task.version, percent=1)
        assert not self._try(stale)

    @invariant()
    def folding_the_history_gives_the_same_task(self):
        assert fold(self.history) == self.task

    @invariant()
    def version_counts_the_events(self):
        assert self.task.version == len(self.history)

    @invariant()
    def a_finished_task_has_an_end_time(self):
        assert self.task.status.is_terminal == (self.task.finished_at is not None)


TestTaskLifecycle = TaskLifecycle.TestCase
