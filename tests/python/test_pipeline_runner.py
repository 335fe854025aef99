"""The pipeline runner's own semantics, on small pipelines written here (no Azure): output
variables across steps, jobs and stages, macros, prependpath, task.complete, logissue,
conditions, continueOnError; GITHUB_ENV/OUTPUT/PATH, needs outputs and status functions.
The journeys (test_pipeline_journeys.py) rely on every one of these."""

from __future__ import annotations

import textwrap
from pathlib import Path

from pipeline_runner import AdoRunner, GithubRunner, Machine

INFO = {"subscription_id": "00000000-0000-4000-8000-000000000001", "tenant_id": "t", "az_stub_dir": "/nonexistent",
        "endpoint": "https://127.0.0.1:1", "authority_host": "https://127.0.0.1:1/", "ca_file": "/dev/null",
        "client_id": "c", "service_connection_id": "s", "system_access_token": "secret-token-value",
        "oidc_request_uri": "https://127.0.0.1:1/oidc"}


def machine(tmp_path: Path) -> Machine:
    return Machine(tmp_path / "agent", INFO, None)


def test_ado_variables_conditions_and_logging_commands(tmp_path):
    repo = tmp_path / "repo"
    (repo / "bin").mkdir(parents=True)
    (repo / "bin" / "hello").write_text("#!/bin/sh\necho hello-from-path\n")
    (repo / "bin" / "hello").chmod(0o755)
    root = repo / "azure-pipelines.yml"
    root.write_text(textwrap.dedent("""\
        stages:
        - stage: A
          jobs:
          - job: one
            steps:
            - checkout: self
            - bash: |
                echo "##vso[task.setvariable variable=OUT;isOutput=true]forty-two"
                echo "##vso[task.setvariable variable=LOCAL]local-value"
                echo "##vso[task.prependpath]$(Build.SourcesDirectory)/bin"
              name: setter
            - bash: |
                test "$(setter.OUT)" = forty-two
                test "$LOCAL" = local-value
                hello
                test -z "${SYSTEM_ACCESSTOKEN:-}"
              displayName: reads
            - bash: |
                echo "##vso[task.logissue type=warning]careful"
                echo "##vso[task.complete result=SucceededWithIssues;]done"
              displayName: issues
            - bash: exit 3
              displayName: fails but continues
              continueOnError: true
            - bash: echo never
              displayName: only on failure
              condition: failed()
          - job: two
            dependsOn: one
            variables:
              GOT: $[ dependencies.one.outputs['setter.OUT'] ]
            steps:
            - bash: test "$GOT" = forty-two && test "$TOKEN" = secret-token-value
              env:
                TOKEN: $(System.AccessToken)
        - stage: B
          dependsOn: A
          condition: eq(dependencies.A.result, 'SucceededWithIssues')
          jobs:
          - job: three
            variables:
              GOT: $[ stageDependencies.A.one.outputs['setter.OUT'] ]
            steps:
            - bash: test "$GOT" = forty-two && exit 1
              displayName: fails
            - bash: echo cleanup
              displayName: always
              condition: always()
            - bash: echo after failure
              displayName: on failure
              condition: failed()
            - bash: echo skipped
              displayName: on success
        - stage: C
          dependsOn: B
          jobs:
          - job: four
            steps:
            - bash: echo never
        """))
    r = AdoRunner(machine(tmp_path), repo).run(root)
    one = r.jobs["A.one"]
    assert [s.result for s in one.steps] == ["Succeeded", "Succeeded", "Succeeded", "SucceededWithIssues",
                                             "SucceededWithIssues", "Skipped"], [(s.display, s.result, s.log)
                                                                                 for s in one.steps]
    assert "hello-from-path" in one.log
    assert one.result == "SucceededWithIssues" and one.outputs == {"setter.OUT": "forty-two"}
    assert ("one", "warning", "careful") in r.issues
    assert r.jobs["A.two"].result == "Succeeded", r.jobs["A.two"].log
    three = r.jobs["B.three"]
    assert [s.result for s in three.steps] == ["Failed", "Succeeded", "Succeeded", "Skipped"]
    assert r.stages == {"A": "SucceededWithIssues", "B": "Failed", "C": "Skipped"}


def test_github_files_outputs_and_status_functions(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    wf = repo / "wf.yml"
    wf.write_text(textwrap.dedent("""\
        on: push
        env:
          GREETING: hi
        jobs:
          first:
            runs-on: ubuntu-24.04
            outputs:
              answer: ${{ steps.s.outputs.answer }}
            steps:
            - uses: actions/checkout@v6
            - id: s
              run: |
                echo "answer=42" >>"$GITHUB_OUTPUT"
                echo "FROM_ENV=set-by-env" >>"$GITHUB_ENV"
                mkdir -p "$RUNNER_TEMP/bin" && printf '#!/bin/sh\\necho tool\\n' >"$RUNNER_TEMP/bin/tool"
                chmod +x "$RUNNER_TEMP/bin/tool" && echo "$RUNNER_TEMP/bin" >>"$GITHUB_PATH"
            - run: test "$FROM_ENV" = set-by-env && test "$GREETING" = hi && tool
            - run: exit 1
            - if: failure()
              run: echo on-failure
            - run: echo skipped
          second:
            needs: first
            if: always() && needs.first.result == 'failure'
            runs-on: ubuntu-24.04
            steps:
            - run: test "$ANSWER" = 42
              env:
                ANSWER: ${{ needs.first.outputs.answer }}
          third:
            needs: first
            runs-on: ubuntu-24.04
            steps:
            - run: echo never
        """))
    r = GithubRunner(machine(tmp_path), repo).run(wf)
    first = r.jobs["first"]
    assert [s.outcome for s in first.steps] == ["success", "success", "success", "failure", "success", "skipped"], \
        [(s.name, s.outcome, s.log) for s in first.steps]
    assert first.result == "failure" and first.outputs == {"answer": "42"}
    assert r.jobs["second"].result == "success", r.jobs["second"].log
    assert r.jobs["third"].result == "skipped"


def test_github_runs_the_repositorys_own_action_under_node(tmp_path):
    """`uses: aibc-dev/aibc/actions/setup-aibc@v0` runs the real action: its inputs (and
    action.yml defaults) as INPUT_*, its outputs and PATH entry reach the next steps, and an
    input the action does not declare fails the step."""
    import hashlib
    import http.server
    import tarfile
    import threading

    target = "x86_64-unknown-linux-musl"
    release = tmp_path / "release" / "v7.7.7"
    top = tmp_path / "stage" / f"aibc-{target}"
    top.mkdir(parents=True)
    (top / "aibc").write_text("#!/bin/sh\necho aibc 7.7.7\n")
    (top / "aibc").chmod(0o755)
    release.mkdir(parents=True)
    archive = release / f"aibc-{target}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(top, arcname=top.name)
    (release / "SHA256SUMS").write_text(f"{hashlib.sha256(archive.read_bytes()).hexdigest()}  {archive.name}\n")
    handler = lambda *a, **kw: http.server.SimpleHTTPRequestHandler(*a, directory=str(release.parent), **kw)  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    repo = tmp_path / "repo"
    repo.mkdir()
    wf = repo / "wf.yml"
    wf.write_text(textwrap.dedent("""\
        on: push
        jobs:
          install:
            runs-on: ubuntu-24.04
            steps:
            - id: setup
              uses: aibc-dev/aibc/actions/setup-aibc@v0
              with:
                version: 7.7.7
                download-url: http://127.0.0.1:PORT/v{version}
            - run: |
                test "$(aibc)" = "aibc 7.7.7"
                test "$(command -v aibc)" = "$AIBC_PATH"
                test "$HIT" = false
              env:
                AIBC_PATH: ${{ steps.setup.outputs.path }}
                HIT: ${{ steps.setup.outputs.cache-hit }}
            - uses: aibc-dev/aibc/actions/setup-aibc@v0
              with:
                url: http://127.0.0.1:PORT/
        """).replace("PORT", str(httpd.server_address[1])))
    try:
        r = GithubRunner(machine(tmp_path), repo).run(wf)
    finally:
        httpd.shutdown()
    steps = r.jobs["install"].steps
    assert [s.outcome for s in steps] == ["success", "success", "failure"], [(s.name, s.outcome, s.log) for s in steps]
    assert any("unexpected inputs ['url']" in line for line in steps[2].log), steps[2].log
