//! Process exit codes. Pipelines branch on them, so they never change meaning; the table
//! in docs/exit-codes.md is generated from `ALL`.

pub const SUCCESS: i32 = 0;
pub const FAILURE: i32 = 1;
pub const INVALID_SPEC: i32 = 2;
pub const AZURE_REFUSED: i32 = 3;
pub const BUILD_FAILED: i32 = 4;
pub const PARTIALLY_SUCCEEDED: i32 = 5;
pub const TIMED_OUT: i32 = 6;
pub const CANCELED: i32 = 7;
/// `aibc import` wrote a spec, but some parts could not be imported (`# TODO(aibc import)`).
pub const IMPORTED_WITH_GAPS: i32 = 8;
pub const WAIT_TIMED_OUT: i32 = 9;
pub const NOT_CONFIRMED: i32 = 10;
pub const USAGE: i32 = 64;
pub const INTERRUPTED: i32 = 130;
pub const TERMINATED: i32 = 143;

pub const ALL: &[(i32, &str)] = &[
    (SUCCESS, "Success. `validate`: the spec has no errors (warnings allowed)."),
    (FAILURE, "Unexpected failure: a file could not be read or written, or an internal error."),
    (INVALID_SPEC, "The spec is invalid; diagnostics were printed."),
    (AZURE_REFUSED, "Azure refused a request (deploy, run): authorization, quota, a failed deployment."),
    (BUILD_FAILED, "The image build failed."),
    (PARTIALLY_SUCCEEDED, "The build partially succeeded: at least one distribution failed."),
    (TIMED_OUT, "Following the build took longer than `--timeout`; the build may still be running."),
    (CANCELED, "The build was canceled."),
    (
        IMPORTED_WITH_GAPS,
        "`aibc import` wrote the spec with gaps: each part it could not import is a `# TODO(aibc import)` comment in the spec (AIB709); finish those by hand.",
    ),
    (
        WAIT_TIMED_OUT,
        "A wait for Azure reached its limit: `deploy --timeout` (default 60m), or a long-running operation past `AIBC_OPERATION_TIMEOUT` (default 60m). What was sent goes on in Azure; the message says where things stand.",
    ),
    (
        NOT_CONFIRMED,
        "A deleting command (`prune`, `clean`) was not confirmed: answered no, or ran without a terminal and without `--yes`. Nothing was deleted.",
    ),
    (USAGE, "The command line is wrong (unknown flag, missing argument)."),
    (INTERRUPTED, "Interrupted (Ctrl-C). A running build is not canceled."),
    (
        TERMINATED,
        "Terminated (SIGTERM, as CI agents and containers send on cancel); handled as Ctrl-C. A running build is not canceled.",
    ),
];
