"""Per-epoch scheduler counters of this process and of the machine, read from /proc, as
bench/epoch-counters.ts reads them for convtorch (no hardware counters in this VM)."""
import os
import re
import time


def _field(text, name):
    match = re.search(r"^" + re.escape(name) + r"\s*:\s*([\d.]+)", text, re.M)
    return float(match.group(1)) if match else float("nan")


def sample():
    threads = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/sched") as f:
                sched = f.read()
        except OSError:
            continue
        threads[tid] = (_field(sched, "se.sum_exec_runtime"), _field(sched, "se.nr_migrations"),
                        _field(sched, "nr_voluntary_switches"), _field(sched, "nr_involuntary_switches"))
    with open("/proc/stat") as f:
        cpu = [int(v) for v in f.readline().split()[1:]]
    busy = cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6]
    return time.perf_counter(), threads, busy, cpu[7]


def difference(a, b):
    own = [0.0, 0.0, 0.0, 0.0]
    for tid, values in b[1].items():
        before = a[1].get(tid, (0.0, 0.0, 0.0, 0.0))
        for i in range(4):
            own[i] += values[i] - before[i]
    own_cpu = own[0] / 1000
    return {"seconds": b[0] - a[0], "ownCpuSeconds": own_cpu, "otherCpuSeconds": max(0.0, (b[2] - a[2]) / 100 - own_cpu),
            "stealSeconds": (b[3] - a[3]) / 100, "migrations": own[1], "voluntarySwitches": own[2],
            "involuntarySwitches": own[3]}
