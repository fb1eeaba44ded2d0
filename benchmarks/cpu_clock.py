"""Contention flags for benchmark rounds on shared machines (stdlib only, Linux /proc).

``busy_jiffies()`` before and after a timed round and ``foreign_cpu_pct(...)`` give the CPU that OTHER processes
used meanwhile, in % of one core: on a 2-core machine, one foreign busy process can slow a 2-thread round 5-10x,
so only rounds with a small foreign share compare.
"""

from __future__ import annotations

import os


def busy_jiffies():
    """(busy jiffies of the whole machine, jiffies of our process group: us + DataLoader workers). Linux only."""
    try:
        with open("/proc/stat") as fh:
            f = [int(x) for x in fh.readline().split()[1:]]
        total = sum(f) - f[3] - f[4]  # minus idle and iowait
        pgrp, ours = os.getpgrp(), 0
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    with open(f"/proc/{pid}/stat") as fh:
                        st = fh.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(st[2]) == pgrp:
                    ours += int(st[11]) + int(st[12])
        return total, ours
    except (OSError, ValueError, IndexError):
        return None


def foreign_cpu_pct(before, after, seconds: float):
    """CPU used by OTHER processes during a timed round, in % of one core (a contention flag; 0 = quiet)."""
    if before is None or after is None or seconds <= 0:
        return None
    hz = os.sysconf("SC_CLK_TCK")
    return round(100.0 * ((after[0] - before[0]) - (after[1] - before[1])) / hz / seconds, 1)


