#!/usr/bin/env python3
"""Times post.lua's payload check (utf8_ok + json_object_ok from lib.lua)
inside Redis with SLOWLOG, on realistic workflow payloads and worst cases.

  bench/payload_bench.py PORT|SOCKET [SCRIPT_TEXT_BIN [CASE...]]

PORT or SOCKET (a path): a scratch redis-server (its SLOWLOG settings are
changed and restored). SCRIPT_TEXT_BIN: build/tests/script_text (prints
the script as sent with EVAL). CASE: only the payloads whose name holds
one of these words. Prints one line per payload: its size, the verdicts
(UTF-8, JSON), the median and min of the runs' SLOWLOG durations of the
EVAL of prelude + lib.lua + a call of the two checks, the same for the
checks before their fast lanes (tests/integration/json_reference.lua, run
in turn on the same server, so both see the same load) and the ratio of
the medians. Never fails on timing (only when the two disagree)."""
import json
import os
import socket
import subprocess
import sys

RUNS = 7


def resp(args):
    """args as one RESP command."""
    out = [b'*%d\r\n' % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        out.append(b'$%d\r\n%s\r\n' % (len(a), a))
    return b''.join(out)


class Conn:
    """A minimal RESP2 client: one command, one reply."""

    def __init__(self, where):
        if where.startswith('/'):
            self.s = socket.socket(socket.AF_UNIX)
            self.s.connect(where)
        else:
            self.s = socket.create_connection(('127.0.0.1', int(where)))
        self.f = self.s.makefile('rb')

    def call(self, *args):
        self.s.sendall(resp(args))
        return self.read()

    def read(self):
        line = self.f.readline()[:-2]
        t, rest = line[:1], line[1:]
        if t == b'+':
            return rest.decode()
        if t == b'-':
            raise RuntimeError(rest.decode())
        if t == b':':
            return int(rest)
        if t == b'$':
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data
        if t == b'*':
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RuntimeError('bad reply %r' % line)


def check_script(bin_path, reference=False):
    """prelude + lib.lua (from post's text) + a call of the two checks;
    with reference, of the previous checks instead (json_reference.lua)."""
    text = subprocess.run([bin_path, 'post'], check=True,
                          capture_output=True).stdout.decode()
    cut = text.index('-- post.lua:')
    if not reference:
        return text[:cut] + (
            '\nreturn {utf8_ok(ARGV[1], false) and 1 or 0,'
            ' json_object_ok(ARGV[1]) and 1 or 0}\n')
    ref = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..',
                       'tests', 'integration', 'json_reference.lua')
    with open(ref) as f:
        body = f.read()
    return text[:cut] + body + (
        '\nreturn {ref_utf8_ok(ARGV[1], false) and 1 or 0,'
        ' ref_json_object_ok(ARGV[1]) and 1 or 0}\n')


def task(i):
    """One task of a realistic workflow, varied as real ones are."""
    k = i % 4
    if k == 0:
        return {"task": "t%05d" % i, "apply": {"plugin": "noop"}}
    if k == 1:
        return {"task": "ip-%d" % i, "apply": ["fake-cloud", "ip", "create"],
                "revert": ["fake-cloud", "ip", "delete"],
                "provides": ["ip_%d" % i]}
    if k == 2:
        return {"task": "boot-%d" % i,
                "apply": ["fake-cloud", "vm", "boot", "--name", "web-%d" % i],
                "requires": ["ip_%d" % (i - 1)], "timeout_ms": 60000,
                "retry": {"attempts": 3, "backoff_ms": 500},
                "locks": ["rack-%d" % (i % 7)]}
    return {"unordered": [
        {"task": "vol-%d" % i, "apply": {"plugin": "sleep", "args": {"ms": 5}},
         "revert": {"plugin": "noop"}},
        {"task": "dns-%d" % i, "apply": ["fake-cloud", "dns", "add",
                                        "host-%d.example.org" % i]}]}


def sized(make, size):
    """The largest make(n) at most size bytes (n by bisection)."""
    lo, hi = 1, 1
    while len(make(hi).encode()) <= size:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if len(make(mid).encode()) <= size:
            lo = mid
        else:
            hi = mid
    return make(lo)


def realistic(n, indent=None):
    doc = {"inputs": {"region": "eu-1", "owner": "ops@example.org"},
           "workflow": {"linear": [task(i) for i in range(n)]}}
    if indent:
        return json.dumps(doc, indent=indent)
    return json.dumps(doc, separators=(',', ':'))


def noop_linear(n):
    doc = {"workflow": {"linear": [{"task": "t%d" % i,
                                    "apply": {"plugin": "noop"}}
                                   for i in range(n)]}}
    return json.dumps(doc, separators=(',', ':'))


def nested(n):
    """n keys each holding arrays and objects 510 levels deep."""
    one = '[' * 255 + '{"a":' * 254 + '[1,{}]' + '}' * 254 + ']' * 255
    return '{' + ','.join('"k%d":%s' % (i, one) for i in range(n)) + '}'


def escapes(n):
    """n short strings of escapes (a pair in each), keys escaped too."""
    s = '"\\n\\"\\\\\\/\\u00e9\\ud83d\\ude00\\t\\u20ac x"'
    return '{' + ','.join('"\\u006b%d":%s' % (i, s) for i in range(n)) + '}'


def multibyte(n):
    """n keys of multibyte text."""
    s = '"h\u00e9llo \u20ac \U0001F600 \u4e2d\u6587 \u00fc\u00df"'
    return '{' + ','.join('"\u00e9%d":%s' % (i, s) for i in range(n)) + '}'


def tokens(n):
    """n tiny members: short keys, small numbers, literals, empty ones."""
    vals = ['0', '-1', '2.5', '1e3', 'true', 'false', 'null', '[]', '{}',
            '[1,2]']
    return '{' + ','.join('"%d":%s' % (i, vals[i % len(vals)])
                          for i in range(n)) + '}'


def mixed(n):
    """Worst of all: each member nests 60 levels of escaped, multibyte
    strings, numbers and short keys."""
    inner = ('{"\\u0061\u00e9":["\\ud83d\\ude00\u20ac\\n",-12.5e-3,'
             'true,{"b":"\u4e2d\\"x"},[0,1,null]],"c":')
    one = inner * 60 + '0' + '}' * 60
    return '{' + ','.join('"m%d":%s' % (i, one) for i in range(n)) + '}'


KIB = 1024
CASES = [
    ('realistic 256KiB', lambda: sized(realistic, 256 * KIB)),
    ('realistic 430KB', lambda: sized(realistic, 430000)),
    ('realistic 1MiB', lambda: sized(realistic, 1024 * KIB)),
    ('realistic indented 1MiB',
     lambda: sized(lambda n: realistic(n, 2), 1024 * KIB)),
    ('noop linear 10000 tasks', lambda: noop_linear(10000)),
    ('worst nested 1MiB', lambda: sized(nested, 1024 * KIB)),
    ('worst escapes 1MiB', lambda: sized(escapes, 1024 * KIB)),
    ('worst multibyte 1MiB', lambda: sized(multibyte, 1024 * KIB)),
    ('worst tokens 1MiB', lambda: sized(tokens, 1024 * KIB)),
    ('worst mixed 1MiB', lambda: sized(mixed, 1024 * KIB)),
    ('worst nested 256KiB', lambda: sized(nested, 256 * KIB)),
    ('worst tokens 256KiB', lambda: sized(tokens, 256 * KIB)),
    ('worst mixed 256KiB', lambda: sized(mixed, 256 * KIB)),
]


def timed(c, sha, payload):
    """(reply, SLOWLOG microseconds) of one EVALSHA of sha."""
    c.call('SLOWLOG', 'RESET')
    r = c.call('EVALSHA', sha, '0', payload)
    entries = c.call('SLOWLOG', 'GET', '10')
    us = [e[2] for e in entries
          if e[3][0].upper() == b'EVALSHA' and e[3][1] == sha]
    return r, us[0]


def measure(c, shas, payload):
    """Per script of shas: (reply, median us, min us) over RUNS EVALSHAs,
    the scripts run in turn so both see the same machine load."""
    times = [[] for _ in shas]
    took = [None for _ in shas]
    for _ in range(RUNS):
        for k, sha in enumerate(shas):
            took[k], us = timed(c, sha, payload)
            times[k].append(us)
    out = []
    for k in range(len(shas)):
        t = sorted(times[k])
        out.append((took[k], t[len(t) // 2], t[0]))
    return out


def main():
    where = sys.argv[1]
    bin_path = sys.argv[2] if len(sys.argv) > 2 else 'build/tests/script_text'
    c = Conn(where)
    old = c.call('CONFIG', 'GET', 'slowlog-log-slower-than')[1]
    shas = [c.call('SCRIPT', 'LOAD', check_script(bin_path)),
            c.call('SCRIPT', 'LOAD', check_script(bin_path, True))]
    c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0')
    print('%-24s %8s  %-9s %17s %17s %6s' % (
        'payload', 'bytes', 'verdict', 'check med/min ms',
        'previous med/min', 'ratio'))
    try:
        only = sys.argv[3:]
        for name, make in CASES:
            if only and not any(o in name for o in only):
                continue
            p = make().encode()
            (took, med, lo), (rtook, rmed, rlo) = measure(c, shas, p)
            if took != rtook:
                raise RuntimeError('%s: check %r, previous %r'
                                   % (name, took, rtook))
            print('%-24s %8d  utf8=%d,%d %8.1f/%7.1f %8.1f/%7.1f %5.1fx' % (
                name, len(p), took[0], took[1], med / 1000, lo / 1000,
                rmed / 1000, rlo / 1000, rmed / med), flush=True)
    finally:
        c.call('CONFIG', 'SET', 'slowlog-log-slower-than', old)


if __name__ == '__main__':
    main()
