#!/usr/bin/env python3
# Summarize results/<phase>/: medians across rounds; overhead = target - direct within each round.
import json, re, sys, statistics as st, glob, os
d = sys.argv[1]
rows = [json.loads(l) for l in open(os.path.join(d, 'results.jsonl')) if l.strip()]
tests = sorted({r['test'] for r in rows}, key=lambda x: (x != 'serial', x))
for test in tests:
    sub = [r for r in rows if r['test'] == test]
    rounds = sorted({r['round'] for r in sub})
    keys = ['p50_ms', 'p99_ms', 'rps'] + (['ttfb_p50_ms', 'ttfb_p99_ms'] if test == 'stream' else [])
    print(f'== {test} ({len(rounds)} rounds; median of rounds)')
    for lab in ['direct', 'rproxy', 'gateway']:
        rs = {r['round']: r for r in sub if r['label'] == lab}
        line = f'  {lab:8s}'
        for k in keys:
            line += f' {k}={st.median(r[k] for r in rs.values()):.3f}'
        bad = sum(r['errors'] + r['non200'] for r in rs.values())
        if lab != 'direct':
            dr = {r['round']: r for r in sub if r['label'] == 'direct'}
            for k in ['p50_ms', 'p99_ms'] + (['ttfb_p50_ms'] if test == 'stream' else []):
                ov = [1000 * (rs[i][k] - dr[i][k]) for i in rounds if i in rs and i in dr]
                line += f' | +{k[:-3]}={st.median(ov):.0f}us'
        print(line + (f' errors={bad}' if bad else ''))
wrk = {}
for f in sorted(glob.glob(os.path.join(d, 'wrk-*.txt'))):
    lab = os.path.basename(f).split('-')[1]
    t = open(f).read()
    rps = float(re.search(r'Requests/sec:\s+([\d.]+)', t).group(1))
    pct = dict(re.findall(r'\s(50|99)%\s+([\d.]+\w+)', t))
    nreq = int(re.search(r'(\d+) requests in', t).group(1))
    non2xx = re.search(r'Non-2xx or 3xx responses: (\d+)', t)
    wrk.setdefault(lab, []).append((rps, pct.get('50'), pct.get('99'), nreq, non2xx.group(1) if non2xx else '0'))
cpu = [json.loads(l) for l in open(os.path.join(d, 'wrkcpu.jsonl'))] if os.path.exists(os.path.join(d, 'wrkcpu.jsonl')) else []
print('== wrk closed loop: median RPS; latency p50/p99 of each round; CPU of the process under test per request')
for lab in ['direct', 'rproxy', 'gateway']:
    if lab not in wrk: continue
    v = wrk[lab]
    cp = [c for c in cpu if c['label'] == lab]
    us = [10000 * c['cpu_ticks'] / n[3] for c, n in zip(cp, v)]
    print(f'  {lab:8s} rps={st.median(x[0] for x in v):.0f} (runs {[round(x[0]) for x in v]}) p50={[x[1] for x in v]} p99={[x[2] for x in v]} cpu_us_per_req={[round(u) for u in us]} non2xx={[x[4] for x in v]}')
print(open(os.path.join(d, 'mem.txt')).read().strip())

# Chunk forwarding check (run.sh step 2b), when present.
chk = os.path.join(d, 'chunks.jsonl')
chunks = {}
if os.path.exists(chk):
    print('== chunk forwarding (serial streams from a mock pausing between its 10 chunks)')
    for l in open(chk):
        if l.strip():
            c = json.loads(l)
            chunks[c['label']] = c
            print(f"  {c['label']:8s} events/stream={c['events_per_req']:.1f} arriving on their own (>= {c['gap_ms']} ms after the previous)={c['spaced_per_req']:.1f} failed={c['failed']}")

# Targets: ratios to the bare proxy measured in the same run.
def med_overhead(test, lab, k):
    sub = [r for r in rows if r['test'] == test]
    dr = {r['round']: r for r in sub if r['label'] == 'direct'}
    rs = {r['round']: r for r in sub if r['label'] == lab}
    ov = [1000 * (rs[i][k] - dr[i][k]) for i in rs if i in dr]
    return st.median(ov) if ov else None

def wrk_med(lab):
    return st.median(x[0] for x in wrk[lab]) if lab in wrk else None

def cpu_med(lab):
    cp = [c for c in cpu if c['label'] == lab]
    us = [10000 * c['cpu_ticks'] / n[3] for c, n in zip(cp, wrk.get(lab, []))]
    return st.median(us) if us else None

mem = open(os.path.join(d, 'mem.txt')).read()
m = re.search(r'rss_peak_kb rproxy=(\d+) gateway=(\d+)', mem)
checks = []
def ratio(name, g, p, limit, fmt, higher_is_better=False):
    if g is None or p is None or p <= 0:
        checks.append((name, 'n/a', 'n/a', 'n/a', 'not measured'))
        return
    r = g / p
    ok = r >= limit if higher_is_better else r <= limit
    checks.append((name, fmt(g), fmt(p), f'{r:.2f}x', ('PASS' if ok else 'MISS') + f" ({'>=' if higher_is_better else '<='} {limit}x)"))

us = lambda v: f'{v:.0f} us'
ratio('added p50, c=1', med_overhead('serial', 'gateway', 'p50_ms'), med_overhead('serial', 'rproxy', 'p50_ms'), 1.4, us)
g99, p99 = med_overhead('serial', 'gateway', 'p99_ms'), med_overhead('serial', 'rproxy', 'p99_ms')
if g99 is not None:
    checks.append(('added p99, c=1', us(g99), us(p99), f'{g99 / p99:.2f}x' if p99 and p99 > 0 else 'n/a', 'no target'))
if any(r['test'] == 'stream' for r in rows):
    ratio('added TTFB p50, stream', med_overhead('stream', 'gateway', 'ttfb_p50_ms'), med_overhead('stream', 'rproxy', 'ttfb_p50_ms'), 1.4, us)
ratio('max RPS (wrk)', wrk_med('gateway'), wrk_med('rproxy'), 0.7, lambda v: f'{v:.0f}', higher_is_better=True)
ratio('CPU per request', cpu_med('gateway'), cpu_med('rproxy'), 1.5, us)
for rate in sorted({int(t[4:]) for t in tests if t.startswith('rate')}):
    g, p = med_overhead(f'rate{rate}', 'gateway', 'p99_ms'), med_overhead(f'rate{rate}', 'rproxy', 'p99_ms')
    verdict = 'no target'
    if rate == 2000:
        verdict = ('PASS' if g <= 5000 else 'MISS') + ' (<= 5 ms)'
    checks.append((f'added p99 at {rate} RPS', f'{g / 1000:.2f} ms', f'{p / 1000:.2f} ms', f'{g / p:.2f}x' if p > 0 else 'n/a', verdict))
if m:
    g, p = int(m.group(2)) / 1024, int(m.group(1)) / 1024
    checks.append(('peak RSS', f'{g:.1f} MiB', f'{p:.1f} MiB', f'{g / p:.2f}x', ('PASS' if g <= 60 else 'MISS') + ' (<= 60 MiB)'))
if 'gateway' in chunks and 'direct' in chunks:
    g, dct = chunks['gateway'], chunks['direct']
    ok = g['failed'] == 0 and g['spaced_per_req'] >= dct['spaced_per_req'] - 0.05
    checks.append(('chunks forwarded one by one', f"{g['spaced_per_req']:.1f}/stream", f"{chunks.get('rproxy', {}).get('spaced_per_req', 0):.1f}/stream",
                   f"direct {dct['spaced_per_req']:.1f}", 'PASS' if ok else 'MISS'))
print('== targets (gateway against the bare proxy of this run)')
w = [max(len(str(c[i])) for c in checks + [('measure', 'gateway', 'bare proxy', 'ratio', 'verdict')]) for i in range(5)]
for c in [('measure', 'gateway', 'bare proxy', 'ratio', 'verdict')] + checks:
    print('  ' + ' | '.join(str(x).ljust(w[i]) for i, x in enumerate(c)))
