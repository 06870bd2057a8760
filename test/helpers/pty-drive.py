#!/usr/bin/python3
"""Runs a command on a new pseudo-terminal, as a user at a terminal would.

  pty-drive.py ROWS COLS COMMAND [ARG...]

Standard input is typed into the terminal; what the terminal shows goes to standard output.
A cursor position query (ESC [6n) is answered as a terminal does.
File descriptor 3, if open, takes control lines: "resize ROWS COLS" changes the window size
(the kernel then sends SIGWINCH to the foreground process). Exits with the command's status
(128 + N for a signal N).
"""
import fcntl
import os
import pty
import select
import struct
import sys
import termios


def winsize(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def main():
    rows, cols = int(sys.argv[1]), int(sys.argv[2])
    argv = sys.argv[3:]
    try:
        control_fd = fcntl.fcntl(3, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(3)
    except OSError:
        control_fd = None
    pid, master = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    winsize(master, rows, cols)
    inputs = [master, 0] + ([control_fd] if control_fd is not None else [])
    control = b""
    status = None
    while True:
        if status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
        try:
            ready, _, _ = select.select(inputs, [], [], 0.05)
        except InterruptedError:
            continue
        if not ready and status is not None:
            break
        for fd in ready:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if fd == master:
                if not data:
                    inputs.remove(master)
                    if status is None:
                        _, status = os.waitpid(pid, 0)
                    continue
                os.write(1, data)
                # answer a cursor position query as a terminal does (busybox ash asks one)
                if b"\x1b[6n" in data:
                    os.write(master, b"\x1b[1;1R")
            elif fd == 0:
                if not data:
                    inputs.remove(0)
                else:
                    os.write(master, data)
            else:
                if not data:
                    inputs.remove(control_fd)
                    continue
                control += data
                while b"\n" in control:
                    line, control = control.split(b"\n", 1)
                    parts = line.split()
                    if parts[:1] == [b"resize"]:
                        winsize(master, int(parts[1]), int(parts[2]))
        if master not in inputs and status is not None:
            break
    code = os.waitstatus_to_exitcode(status)
    sys.exit(128 - code if code < 0 else code)


main()
