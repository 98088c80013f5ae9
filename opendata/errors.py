"""One exception tree for the whole platform.

Data problems (an invalid cell, a personal-data finding) are *findings* collected in reports; the
exceptions below are for "this run cannot go on". Transient errors may succeed on retry; terminal ones
never will until a person changes something, and the message says what.

    OpendataError
    ├── TransientError              retry with backoff
    │   ├── SourceUnavailable       the agency system timed out or refused the connection
    │   ├── RunInProgress           another run of the same job holds its lock
    │   └── RemoteUnavailable       a remote catalog (CKAN) or the object storage did not answer or answered 5xx
    └── TerminalError               quarantine or block; do not retry
        ├── ConfigurationError      settings that cannot work (missing key outside development, ...)
        │   └── SchemaVersionMismatch   a catalog at another schema version than the code (opendata db upgrade)
        ├── JobFileError            a job file with a wrong key, a wrong type or a missing file
        ├── SourceError             the source answered, but with something we cannot read
        ├── PrivacyBlocked          personal data the policy does not cover (fail closed)
        ├── ValidationFailed        the anonymised table does not match its Table Schema
        ├── SchemaInvalid           a Table Schema that cannot be read (validation cannot start)
        ├── ValidationInputError    a file `opendata validate` cannot read as a table
        ├── ApprovalError           an approval decision that cannot be taken
        ├── CatalogError            a dataset or release that does not exist
        ├── QueryError              an API query that cannot be answered (bad column, operator, cursor)
        │   ├── QueryTimeout        a query ran past the time limit and was interrupted
        │   ├── SearchQueryError    a catalog search (q, fq, sort) that does not parse
        │   └── QueryTooLarge       a query's result is over the row cap, or it needs too much memory
        ├── Unauthorized            no API key, or one that is not valid, where a key is needed
        ├── Forbidden               an API key whose role may not do this
        ├── ActionConflict          a request that conflicts with the current state (CKAN's 409)
        └── PushFailed              a remote catalog (CKAN) refused what was pushed to it
"""

from __future__ import annotations


class OpendataError(Exception):
    """Base of every error this platform raises on purpose.

    ``public`` is what may be said on the public side (run history, the runs page): what failed and where
    (file, line, column, error kind), never a value from a source. The message itself may quote source
    values and stays private (the CLI, the run's private report).
    """

    #: A stable kebab-case code, used in the API's error body and in `--json` output.
    code = "opendata-error"
    public: str | None = None

    def with_public(self, public: str) -> OpendataError:
        self.public = public
        return self


def public_summary(exc: BaseException) -> str:
    """What a failure may say publicly: the error's own public text, or its kind alone."""
    if isinstance(exc, TransientError) and exc.public is None:
        return str(exc)  # a source that did not answer, a lock held: nothing read from the source
    if isinstance(exc, OpendataError):
        return exc.public or f"{exc.code}: {_PUBLIC_KINDS.get(exc.code, 'the run could not go on')}"
    return f"internal error ({type(exc).__name__}); the operator's run log has the details"


_PUBLIC_KINDS = {
    "source-error": "the source answered with something that cannot be read as a table",
    "source-unavailable": "the source did not answer",
    "job-file-error": "the job file is invalid",
    "configuration-error": "a setting cannot work",
    "run-in-progress": "another run of the job is in progress",
}


class TransientError(OpendataError):
    code = "transient-error"


class SourceUnavailable(TransientError):
    code = "source-unavailable"


class TerminalError(OpendataError):
    code = "terminal-error"


class ConfigurationError(TerminalError):
    code = "configuration-error"


class SchemaVersionMismatch(ConfigurationError):
    """The catalog database is at an older or newer schema revision than this code; the message names the
    command to run (``opendata db upgrade``)."""


class JobFileError(TerminalError):
    code = "job-file-error"

    def __init__(self, path: object, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"job file {self.path} is invalid:\n{lines}")


class SourceError(TerminalError):
    code = "source-error"


class PrivacyBlocked(TerminalError):
    code = "privacy-blocked"


class ValidationFailed(TerminalError):
    code = "validation-failed"


class SchemaInvalid(TerminalError):
    code = "schema-error"


class ValidationInputError(TerminalError):
    code = "validation-input-error"


class ApprovalError(TerminalError):
    code = "approval-error"


class CatalogError(TerminalError):
    code = "not-found"


class QueryError(TerminalError):
    code = "invalid-query"

    def __init__(self, message: str, *, parameter: str | None = None) -> None:
        self.parameter = parameter
        super().__init__(message)


class RunInProgress(TransientError):
    code = "run-in-progress"


class QueryTimeout(QueryError):
    code = "query-timeout"


class QueryTooLarge(QueryError):
    code = "query-too-large"


class Unauthorized(TerminalError):
    code = "unauthorized"


class Forbidden(TerminalError):
    code = "forbidden"


class ActionConflict(TerminalError):
    code = "conflict"


class SearchQueryError(QueryError):
    code = "invalid-search"


class RemoteUnavailable(TransientError):
    code = "remote-unavailable"


class PushFailed(TerminalError):
    code = "push-failed"
