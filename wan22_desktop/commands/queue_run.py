"""wan22 queue run: work the queue headless until it is empty (--forever: keep waiting;
--gpu-mode throughput: one runner per GPU, supervised here, see runtime/runner_group.py);
wan22 queue retry-safer ID: queue a failed job again planned for less of the GPU (more headroom).

Attaches to the queue group that commands/queue.py registers (modules are registered in
name order, so it exists by now). Ctrl-C stops cleanly: the running job goes back to the queue.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from dataclasses import asdict
from typing import Any

from wan22_desktop.request_flags import RECORD_ID
from wan22_desktop.terminal_text import escape_control


def _queue_actions(subparsers: argparse._SubParsersAction) -> argparse._SubParsersAction:
    queue_parser = subparsers.choices.get("queue")
    if queue_parser is None:
        raise RuntimeError("commands/queue.py must register the queue group first")
    for action in queue_parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise RuntimeError("the queue group has no sub-commands")


def register(subparsers: argparse._SubParsersAction) -> None:
    sub = _queue_actions(subparsers)
    run = sub.add_parser("run", help="run the queued jobs here (headless) until the queue is empty")
    run.add_argument("--forever", action="store_true", help="keep waiting for new jobs")
    run.add_argument(
        "--pause-cancels",
        action="store_true",
        help="when the queue is paused, stop the running job (it stays queued) "
        "instead of letting it finish",
    )
    run.add_argument(
        "--no-keep-awake", action="store_true", help="let the computer sleep while jobs run"
    )
    run.add_argument(
        "--gpu-mode",
        choices=("auto", "throughput", "latency"),
        default="auto",
        help="several GPUs: throughput = one runner per GPU, each job on one GPU; latency = "
        "every job across all GPUs; auto = the planner picks per job (default)",
    )
    # A runner of a throughput group: the pid of the `queue run` that supervises it.
    run.add_argument("--group-supervisor", type=int, default=None, help=argparse.SUPPRESS)
    run.set_defaults(func=cmd_run)

    safer = sub.add_parser(
        "retry-safer",
        help="queue a failed job again with more of the GPU kept free (after out of memory): "
        "20 %% more each time, up to 60 %%, while the plan gets smaller",
    )
    safer.add_argument("ids", type=RECORD_ID, nargs="+", metavar="ID")
    safer.set_defaults(func=cmd_retry_safer)


def cmd_run(args: argparse.Namespace) -> int:
    from wan22_desktop.db.database import open_app_database
    from wan22_desktop.downloader.catalog import comfyui_preview_dirs
    from wan22_desktop.paths import app_paths
    from wan22_desktop.runtime.runner import QueueRunner, RunnerOptions
    from wan22_desktop.settings import Settings, effective_paths

    paths = app_paths(args.home).ensure()
    settings = Settings.load(paths, recover=True)
    paths = effective_paths(paths, settings).ensure()
    gpu_mode = args.gpu_mode
    options = RunnerOptions(
        forever=args.forever,
        pause_cancels=args.pause_cancels,
        keep_awake=settings.get("keep_awake") and not args.no_keep_awake,
        hang_factor=settings.get("hang_timeout_factor"),
        max_interruptions=settings.get("max_attempts"),
        gpu_mode=gpu_mode,
        supervisor_pid=args.group_supervisor,
        preview=settings.get("live_preview"),
        preview_dirs=comfyui_preview_dirs(settings.get("comfyui_dir")),
    )
    from wan22_desktop.db import queue as q

    hardware = None
    if gpu_mode == "throughput" and args.group_supervisor is None:
        from wan22_desktop.runtime.hardware import probe_in_subprocess

        hardware = probe_in_subprocess([paths.outputs, paths.models])
        if len(hardware.gpus) > 1:
            return _run_group(args, paths, hardware.gpus)
        gpus = f"{len(hardware.gpus)} GPU" + ("" if len(hardware.gpus) == 1 else "s")
        message = f"throughput mode: this machine has {gpus}, so it runs one runner"
        print(json.dumps({"event": "group", "message": message}) if args.json else message)

    display = _Display(json_lines=args.json)
    with open_app_database(paths) as db:
        # A runner of a throughput group shares the queue with its siblings (each its own
        # lease), also on SQLite, where the supervisor holds the folder's lease for the group.
        db.several_runners = args.group_supervisor is not None
        runner = QueueRunner(db, paths, options, hardware=hardware, on_event=display)
        display.runner = runner
        restore = _stop_on_signals(runner)
        try:
            summary = runner.run()
        finally:
            restore()
        # What is left in the queue, however it got there (a paused runner requeues nothing
        # but leaves every waiting job queued).
        still_queued = q.counts_by_status(db).get("queued", 0)
    display.close()
    reason = stop_reason(summary.stopped_reason, interrupted=runner.interrupted)
    if args.json:
        data = {**asdict(summary), "stopped_reason": reason, "queued": still_queued}
        print(json.dumps({"summary": data}), flush=True)
    else:
        print(
            f"runner stopped ({reason}): {len(summary.done)} done, "
            f"{len(summary.failed)} failed, {len(summary.cancelled)} cancelled, "
            f"{still_queued} left queued"
        )
    return 130 if runner.interrupted else (1 if summary.failed else 0)


def _run_group(args: argparse.Namespace, paths: Any, gpus: Any) -> int:
    """``--gpu-mode throughput`` on several GPUs: one child runner per GPU (runner_group.py)."""
    from wan22_desktop.db.database import open_app_database
    from wan22_desktop.runtime.runner_group import RunnerGroup

    run_args = [
        flag
        for flag, on in (
            ("--forever", args.forever),
            ("--pause-cancels", args.pause_cancels),
            ("--no-keep-awake", args.no_keep_awake),
        )
        if on
    ]
    with open_app_database(paths) as db:
        group = RunnerGroup(db, args.home, gpus, run_args, json_lines=args.json)
        summary = group.run()
    died = [r["runner"] for r in summary["runners"] if r["exit_code"] not in (0, 1, 130)]
    if args.json:
        print(json.dumps({"summary": {**summary, "interrupted": group.interrupted}}), flush=True)
    else:
        how = "interrupted: running jobs stay queued" if group.interrupted else "all runners done"
        print(
            f"runners stopped ({how}): {len(summary['done'])} done, "
            f"{len(summary['failed'])} failed, {len(summary['cancelled'])} cancelled, "
            f"{summary['queued']} left queued" + (f"; died: {', '.join(died)}" if died else "")
        )
    if group.interrupted:
        return 130
    return 1 if summary["failed"] or died else 0


def stop_reason(reason: str, *, interrupted: bool) -> str:
    """Why the runner stopped, in words: the runner's bare "stopped" means someone stopped it,
    which from the command line is Ctrl-C or SIGTERM."""
    if interrupted or reason in ("", "stopped"):
        return "interrupted: the running job stays queued"
    return reason


def _stop_on_signals(runner: Any) -> Any:
    """Ctrl-C / SIGTERM: stop the runner (the current job stays queued), not a traceback."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum: int, _frame: Any) -> None:
        runner.interrupted = True
        runner.stop(requeue_current=True)

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    return lambda: [signal.signal(s, h) for s, h in old.items()]


class _Display:
    """One line per event; a live bar on a terminal (rich), JSON lines with ``--json``."""

    def __init__(self, *, json_lines: bool) -> None:
        self.json_lines = json_lines
        self.runner: Any = None  # set once the runner exists: its interrupted flag names a stop
        self.progress: Any = None
        self.task: Any = None
        if not json_lines and sys.stdout.isatty():
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeRemainingColumn(),
            )
            self.progress.start()

    def __call__(self, ev: Any) -> None:
        from wan22_desktop.runtime import protocol as P

        if self.json_lines:
            data = ev.data
            if isinstance(data, P.Message):
                data = {"type": data.type, **asdict(data)}
            elif hasattr(data, "to_dict"):
                data = data.to_dict()
            elif not isinstance(data, (dict, list, str, int, float, type(None))):
                data = None
            print(
                json.dumps(
                    {"event": ev.kind, "job_id": ev.job_id, "message": ev.message, "data": data},
                    ensure_ascii=False,
                    default=str,
                ),
                flush=True,
            )
            return
        if ev.kind == "progress" and isinstance(ev.data, P.Step):
            self._bar(ev.job_id, ev.data)
            return
        if ev.kind == "progress":
            if isinstance(ev.data, P.Phase):
                self._say(f"job {ev.job_id}: {ev.data.phase.replace('_', ' ')}")
            return
        from wan22_desktop.runtime.runner_group import event_word

        text = "" if ev.kind in ("idle", "worker", "started") else event_word(ev.kind, ev.data)
        message = ev.message
        if ev.kind == "stopped":  # was "stopped: stopped" after Ctrl-C
            text = "runner stopped:"
            message = stop_reason(message, interrupted=bool(getattr(self.runner, "interrupted", 0)))
        prefix = f"job {ev.job_id}: " if ev.job_id is not None else ""
        line = f"{prefix}{text} {escape_control(message)}".strip()
        if ev.kind == "failed" and isinstance(ev.data, dict) and ev.data.get("hint"):
            line += f"\n  hint: {escape_control(str(ev.data['hint']))}"
        if ev.kind in ("done", "failed", "cancelled", "requeued") and self.task is not None:
            self.progress.remove_task(self.task)
            self.task = None
        self._say(line)

    def _bar(self, job_id: int, step: Any) -> None:
        if self.progress is None:
            if step.step == step.total or step.step == 1:
                rate = f", {step.it_per_s:.2f} it/s" if step.it_per_s else ""
                self._say(f"job {job_id}: step {step.step}/{step.total}{rate}")
            return
        desc = f"job {job_id} sampling" + (f" ({step.expert})" if step.expert else "")
        if self.task is None:
            self.task = self.progress.add_task(desc, total=step.total)
        self.progress.update(self.task, completed=step.step, total=step.total, description=desc)

    def _say(self, line: str) -> None:
        if self.progress is not None:
            self.progress.console.print(line)
        else:
            print(line, flush=True)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def cmd_retry_safer(args: argparse.Namespace) -> int:
    from wan22_desktop.db import queue as q
    from wan22_desktop.db.database import open_app_database
    from wan22_desktop.paths import app_paths
    from wan22_desktop.request import GenerationRequest
    from wan22_desktop.runtime.hardware import probe_in_subprocess
    from wan22_desktop.runtime.planning import installed_models, safer_for_job

    paths = app_paths(args.home)
    hardware = probe_in_subprocess([paths.outputs, paths.models])
    said: dict[int, tuple[int, str]] = {}
    with open_app_database(paths) as db:
        installed = installed_models(db)
        for job_id in args.ids:
            job = q.get_job(db, job_id)
            request = GenerationRequest.from_json(job.request_json)
            safer, how = safer_for_job(request, job.plan_json, hardware, installed)
            q.retry_job(db, job_id)
            q.edit_job(db, job_id, memory=safer.memory)
            said[job_id] = (safer.memory.vram_headroom, how)
    if args.json:
        print(
            json.dumps(
                {
                    "retried": args.ids,
                    "vram_headroom": {str(i): h for i, (h, _) in said.items()},
                }
            )
        )
    else:
        for job_id, (headroom, how) in said.items():
            print(
                f"job {job_id}: queued again with {headroom} % of the GPU kept free "
                f"({escape_control(how)})"
            )
    return 0
