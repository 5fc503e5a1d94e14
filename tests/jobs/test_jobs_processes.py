"""Worker processes: the heavy calls run in spawned processes, which die with the app that started them."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

SCRIPT = """
import sys
sys.path.insert(0, {here!r})
import jobs_helpers
from buildtrace_desktop.jobs.runner import JobRunner
from buildtrace_desktop.services import projects
from buildtrace_desktop.services.app import AppContext

app = AppContext({home!r})
project = projects.create_project(app, "Sample")
old = projects.import_drawing_set(app, project.id, [jobs_helpers.SAMPLE / "old.pdf"], "Rev 1", ingest=False)
new = projects.import_drawing_set(app, project.id, [jobs_helpers.SAMPLE / "new.pdf"], "Rev 2", ingest=False)
created = projects.create_comparison(app, project.id, old.set_id, new.set_id)
runner = JobRunner(app, max_workers=1, functions=jobs_helpers.stand_ins(compare_pair=jobs_helpers.sleeping_compare))
runner.submit(created.job_id)
runner.wait(created.job_id)
"""


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status  # a zombie has exited; nobody may reap it in a container


def test_worker_processes_exit_when_the_app_is_killed(tmp_path: Path) -> None:
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    env = {**os.environ, "BT_TEST_PID_DIR": str(pid_dir), "QT_QPA_PLATFORM": "offscreen"}
    app = subprocess.Popen([sys.executable, "-c", SCRIPT.format(here=str(HERE), home=str(tmp_path / "home"))],
                           env=env, stderr=subprocess.PIPE)
    try:
        while not any(pid_dir.iterdir()):  # wait until the diff runs in a worker process
            assert app.poll() is None, app.stderr.read().decode()
            time.sleep(0.05)
        worker_pid = int(next(pid_dir.iterdir()).name)
        assert worker_pid != app.pid
        app.send_signal(signal.SIGKILL)
        app.wait()
        deadline = time.monotonic() + 60  # the watchdog looks once a second; this only bounds a hang
        while not _gone(worker_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _gone(worker_pid), "the worker process outlived the app that started it"
    finally:
        if app.poll() is None:
            app.kill()
        for entry in pid_dir.iterdir():
            if not _gone(int(entry.name)):
                os.kill(int(entry.name), signal.SIGKILL)



def test_shutdown_mid_job_stops_worker_processes_and_leaves_the_job_to_resume(
        sample, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    import jobs_helpers

    from buildtrace_desktop.jobs.runner import JobRunner
    from buildtrace_desktop.services import projects

    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    monkeypatch.setenv("BT_TEST_PID_DIR", str(pid_dir))  # spawned workers inherit the environment
    created = sample.comparison()
    runner = JobRunner(sample.app, max_workers=2,
                       functions=jobs_helpers.stand_ins(compare_pair=jobs_helpers.sleeping_compare))
    runner.submit(created.job_id)
    while len(list(pid_dir.iterdir())) < 2:  # both diffs run in worker processes
        assert runner.is_active(created.job_id), projects.get_job(sample.app, created.job_id).error_message
        time.sleep(0.05)
    runner.shutdown()

    assert all(_gone(int(p.name)) for p in pid_dir.iterdir())
    assert projects.get_job(sample.app, created.job_id).state == "pending"
    states = {st.key: st.state for st in projects.list_stages(sample.app, created.job_id)}
    assert states["match"] == "done" and states["diff:0:0"] == states["diff:1:1"] == "pending"
