"""What the benchmarks record about the machine they ran on (both results files say it)."""

import os
import platform


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
