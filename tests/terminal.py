"""The real program on a real pseudo-terminal: every byte it writes is kept, and replayed by pyte
(a VT emulator) so a test can wait for what a person would see and press keys as a person would.

Unlike tmux's capture-pane (which shows the screen tmux interpreted), `raw` is exactly what the
program sent to the terminal: escape sequences included, so a test can prove none of ours came
from data.
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import threading
import time
from typing import Optional, Sequence

import pyte

KEYS = {
    "enter": "\r", "escape": "\x1b", "tab": "\t", "up": "\x1b[A", "down": "\x1b[B", "right": "\x1b[C", "left": "\x1b[D",
    "ctrl+q": "\x11", "ctrl+s": "\x13", "ctrl+r": "\x12", "ctrl+g": "\x07", "backspace": "\x7f", "space": " ",
}


class Terminal:
    """`argv` in a pty of `cols` x `rows`; `raw` holds every byte it wrote, `text()` the screen now."""

    def __init__(self, argv: Sequence[str], *, cols: int = 120, rows: int = 40, env: Optional[dict] = None,
                 cwd: Optional[str] = None):
        self.cols, self.rows = cols, rows
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        full_env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        full_env.update({"TERM": "xterm-256color", "COLORTERM": "truecolor", **(env or {})})
        self.proc = subprocess.Popen(list(argv), stdin=slave, stdout=slave, stderr=slave, env=full_env, cwd=cwd,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.master = master
        self.raw = bytearray()
        self._lock = threading.Lock()
        self.screen = pyte.Screen(cols, rows)
        self._stream = pyte.ByteStream(self.screen)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.2)
                if not ready:
                    if self.proc.poll() is not None:
                        return
                    continue
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self.raw += chunk
                self._stream.feed(chunk)

    def text(self) -> str:
        with self._lock:
            return "\n".join(line.rstrip() for line in self.screen.display)

    def wait_for(self, what: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.text()
            if what in out:
                return out
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{what!r} never appeared (exit {self.proc.poll()}); screen:\n{self.text()}")

    def wait_gone(self, what: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.text()
            if what not in out:
                return out
            time.sleep(0.1)
        raise AssertionError(f"{what!r} never went away; screen:\n{self.text()}")

    def settle(self, quiet: float = 0.5, timeout: float = 10) -> None:
        """Wait until the program has written nothing for `quiet` seconds (a frame is complete)."""
        deadline = time.monotonic() + timeout
        last, since = len(self.raw), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            n = len(self.raw)
            if n != last:
                last, since = n, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return

    def press(self, *keys: str, gap: float = 0.15) -> None:
        """Each key as a person types it: a name from KEYS or literal text; `gap` seconds apart."""
        for key in keys:
            os.write(self.master, KEYS.get(key, key).encode())
            time.sleep(gap)

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> int:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._reader.join(5)
        try:
            os.close(self.master)
        except OSError:
            pass
        return self.proc.returncode
