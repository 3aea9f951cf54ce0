import autocannon from 'autocannon';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';

export interface LoadResult {
  /** Successful (2xx) requests per second. */
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  /** Non-2xx answers and socket errors: any of them makes the figure suspect. */
  failures: number;
}

/** HTTP load with autocannon: `connections` keep-alive connections for `seconds`. */
export async function load(
  url: string,
  authorization: string,
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    headers: { authorization },
  });
  const ok = result['2xx'];
  return {
    rps: round(ok / (result.duration || seconds)),
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

/**
 * p50 latency in ms, to the microsecond, of requests sent one after the other on one
 * keep-alive connection for `seconds` (autocannon rounds latencies to whole milliseconds,
 * and at one connection a request here takes about one).
 */
export async function sequentialP50(
  url: string,
  authorization: string,
  seconds: number,
): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const once = () =>
    new Promise<number>((resolve, reject) => {
      const started = performance.now();
      const req = request(url, { agent, headers: { authorization } }, (response) => {
        response.resume();
        response.on('end', () =>
          response.statusCode === 200
            ? resolve(performance.now() - started)
            : reject(new Error(`${url}: ${response.statusCode}`)),
        );
      });
      req.on('error', reject);
      req.end();
    });
  const times: number[] = [];
  const until = performance.now() + seconds * 1000;
  try {
    while (performance.now() < until) times.push(await once());
  } finally {
    agent.destroy();
  }
  return round(median(times), 3);
}

/** Polls the peak resident set (VmHWM) of a process while it runs. */
export class MemorySampler {
  private peakKb = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly pid: number) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), 250);
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return round(this.peakKb / 1024);
  }

  /** Resets the kernel's high-water mark (VmHWM) to the current RSS (Linux 4.0+). */
  resetPeak(): void {
    try {
      writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
    } catch {
      // not permitted: the peak then covers the process's whole life
    }
    this.peakKb = 0;
  }

  /** The current resident set in MB. */
  currentMb(): number {
    return round(this.read('VmRSS') / 1024);
  }

  private sample(): void {
    this.peakKb = Math.max(this.peakKb, this.read('VmHWM'), this.read('VmRSS'));
  }

  private read(field: string): number {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
      return match ? Number(match[1]) : 0;
    } catch {
      return 0;
    }
  }
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

export const round = (value: number, digits = 1): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

export interface Footprint {
  /** PSS of the API process, MB. */
  apiPssMb: number;
  /** RSS of the API process, MB. */
  apiRssMb: number;
  /** PSS of the other processes (the embedded store's server and its backends), MB. */
  storePssMb: number;
  /** What the checks use: the API's RSS plus the store's PSS (see `footprint`). */
  totalMb: number;
  processes: number;
}

/**
 * Memory of an API process plus every descendant of it and of `storeRoots` (the embedded
 * PostgreSQL's postmaster: its backends are its children), from /proc/<pid>/smaps_rollup.
 * PSS divides shared pages among the processes sharing them. The bench's own Node.js
 * processes (this runner, the baseline, the other API) share Node's code pages with the
 * API, which lowers the API's PSS here by tens of MB below what it is when it runs alone;
 * so the total counts the API's RSS (its PSS when alone) plus the store's PSS (the
 * store's binary is not shared with anything else here).
 */
export function footprint(apiPid: number, storeRoots: number[] = []): Footprint {
  const pids = withDescendants([apiPid, ...storeRoots]).filter((pid) => pid !== apiPid);
  const api = memoryKb(apiPid);
  const storeKb = pids.reduce((sum, pid) => sum + memoryKb(pid).pss, 0);
  return {
    apiPssMb: round(api.pss / 1024),
    apiRssMb: round(api.rss / 1024),
    storePssMb: round(storeKb / 1024),
    totalMb: round((api.rss + storeKb) / 1024),
    processes: pids.length,
  };
}

/** Samples `footprint` every 250 ms and keeps the sample with the highest total. */
export class FootprintSampler {
  private peak?: Footprint;
  private timer?: NodeJS.Timeout;

  constructor(private readonly measure: () => Footprint) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), 250);
  }

  stop(): Footprint {
    clearInterval(this.timer);
    this.sample();
    return this.peak!;
  }

  private sample(): void {
    const now = this.measure();
    if (!this.peak || now.totalMb > this.peak.totalMb) this.peak = now;
  }
}

/** RSS and PSS in kB of one process; 0 once it has gone. */
function memoryKb(pid: number): { rss: number; pss: number } {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0);
    return { rss: field('Rss'), pss: field('Pss') };
  } catch {
    return { rss: 0, pss: 0 };
  }
}

/** The given processes and all their descendants, from the parent ids in /proc/<pid>/stat. */
function withDescendants(roots: number[]): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    // "pid (command) state ppid ...": the command may hold spaces and parentheses.
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const found = new Set<number>();
  const visit = (pid: number) => {
    if (found.has(pid)) return;
    found.add(pid);
    for (const child of children.get(pid) ?? []) visit(child);
  };
  roots.forEach(visit);
  return [...found];
}

/**
 * CPU time a process has used so far (user + system), in seconds, from /proc/<pid>/stat
 * (clock ticks of 1/100 s); 0 when it cannot be read.
 */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "pid (command) ": state is field 0, utime field 11, stime field 12.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}
