#!/usr/bin/python3
"""Time to the first prompt of an interactive shell, in a pseudo-terminal.

Starts COMMAND on a new pseudo-terminal (pty.fork: its own session), reads what it writes to the
terminal, and takes the wall time from the fork until the output shows the ready marker: a prompt
(`zk:` ... `] ` or a line ending in `> `, after removing colour escapes) or one of the --ready
patterns. Then types `quit` and Enter, waits up to --quit-timeout seconds for the shell to end and
kills its process group otherwise. Repeats --runs times (each bounded by --timeout seconds) and
prints one JSON line: the median, every run, and which marker matched.

    /usr/bin/python3 first_prompt.py --runs 5 -- zksh -s 127.0.0.1:2181
    /usr/bin/python3 first_prompt.py --runs 5 --ready 'WatchedEvent state:SyncConnected' -- \\
        /usr/share/zookeeper/bin/zkCli.sh -server 127.0.0.1:2181
"""
import argparse
import json
import os
import pty
import re
import select
import signal
import statistics
import time

ESCAPES = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
PROMPTS = [rb"\[?zk:[^\n]*[\]>] ?$", rb"> $"]


def once(command, patterns, timeout, quit_timeout):
    start = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        try:
            env = dict(os.environ)
            env.setdefault("TERM", "xterm")  # the same terminal type for every shell measured
            os.execvpe(command[0], command, env)
        finally:
            os._exit(127)
    seen = b""
    matched = None
    elapsed = None
    try:
        deadline = start + timeout
        while matched is None and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], max(0.0, min(0.05, deadline - time.monotonic())))
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the shell ended (EIO on the pty)
                break
            if not chunk:
                break
            now = time.monotonic()
            seen += chunk
            text = ESCAPES.sub(b"", seen).replace(b"\r", b"")
            for pattern in patterns:
                if re.search(pattern, text, re.MULTILINE):
                    matched, elapsed = pattern.decode(), now - start
                    break
        try:
            os.write(fd, b"quit\r")
        except OSError:
            pass
        end = time.monotonic() + quit_timeout
        ended = False
        while not ended and time.monotonic() < end:
            ended = os.waitpid(pid, os.WNOHANG)[0] == pid
            if not ended and select.select([fd], [], [], 0.05)[0]:
                try:
                    os.read(fd, 65536)  # keep the terminal drained while the shell closes
                except OSError:
                    pass
        if not ended:
            try:
                os.killpg(pid, signal.SIGKILL)  # its own session and process group (zkCli.sh's java too)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
    finally:
        os.close(fd)
    return elapsed, matched, seen


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the prompt in one run")
    parser.add_argument("--quit-timeout", type=float, default=5.0)
    parser.add_argument("--ready", action="append", default=[],
                        help="a further regular expression that counts as ready (may repeat)")
    parser.add_argument("--tool", default=None)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command")
    patterns = PROMPTS + [p.encode() for p in args.ready]
    times, markers, failures = [], [], []
    for _ in range(args.runs):
        elapsed, matched, seen = once(command, patterns, args.timeout, args.quit_timeout)
        if elapsed is None:
            failures.append(ESCAPES.sub(b"", seen)[-200:].decode(errors="replace"))
        else:
            times.append(elapsed)
            markers.append(matched)
    result = {"tool": args.tool or os.path.basename(command[0]), "runs": len(times),
              "median_s": statistics.median(times) if times else None,
              "times_s": [round(t, 4) for t in times],
              "marker": max(set(markers), key=markers.count) if markers else None}
    if failures:
        result["failures"] = len(failures)
        result["last_output"] = failures[-1]
    if not times:
        result["error"] = "no prompt within %.0f s" % args.timeout
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
