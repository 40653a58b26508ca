"""What the benchmarks write down: the machine they ran on, and the head of their results files
(bench/results/*.txt, TOML syntax, which Python's tomllib reads and the chapters quote)."""

import json
import os
import platform
import textwrap
import time


def describe_machine():
    """'2 CPUs (AMD EPYC ...), Linux': the CPU count and model, and the system."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), {platform.system()}"


def toml_value(value):
    """A TOML value: true/false, a string or an array (JSON's syntax is TOML's), a number."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (str, list)):
        return json.dumps(value)
    return repr(value)


def results_head(comments, note):
    """The lines before a results file's tables: the comments saying what the file holds, the
    note wrapped as comments too, then today's date and the note as values."""
    lines = list(comments)
    lines += ["# NOTE: " + line for line in textwrap.wrap(note, 90)] if note else []
    return lines + ["", f'date = "{time.strftime("%Y-%m-%d")}"', f"note = {toml_value(note)}", ""]
