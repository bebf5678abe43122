"""Errors of the domain: each names the rule that was broken and the ids involved."""

from __future__ import annotations


class DomainError(Exception):
    """Root of every error the domain raises."""


class IllegalTransitionError(DomainError):
    """An event that the task's current state does not allow."""

    def __init__(self, task_id: str, status: str, event_type: str, rule: str):
        self.task_id = task_id
        self.status = status
        self.event_type = event_type
        super().__init__(f"task {task_id} is {status}: {event_type} refused ({rule})")


class VersionConflictError(DomainError):
    """Someone else appended to the task's history first."""

    def __init__(self, task_id: str, expected: int, actual: int):
        self.task_id = task_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"task {task_id} is at version {actual}, not {expected} as expected"
        )


class TaskNotFoundError(DomainError):
    """No history exists for the task id."""

    def __init__(self, task_id: str):
        self.task_id = task_id
        super().__init__(f"no task with id {task_id}")


class InvalidCommandError(DomainError):
    """A command whose arguments break a rule before any task is made."""
