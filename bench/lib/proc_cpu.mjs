// CPU time the runtime spent, read from Linux's /proc: the user and system time of every workerd
// process in a process group (`wrangler dev` runs two, the worker's and its proxy's, both in the
// group of the wrangler process the bench spawned). Where /proc cannot be read, `null`.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticks = null;
/** Clock ticks per second, the unit of /proc/<pid>/stat's times. */
function ticksPerSecond() {
  if (ticks == null) {
    try { ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { ticks = 100; }
  }
  return ticks;
}

/** Milliseconds of CPU used so far by the workerd processes of process group `pgid`. */
export function workerdCpuMs(pgid) {
  let entries;
  try { entries = readdirSync('/proc'); } catch { return null; }
  let total = 0;
  let found = false;
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name, which may hold spaces: state, ppid, pgrp, ...
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) !== pgid) continue;
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('workerd')) continue;
      total += Number(f[11]) + Number(f[12]);
      found = true;
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return found ? (total * 1000) / ticksPerSecond() : null;
}
