#!/usr/bin/python3
"""promcheck.py — strict validator of the Prometheus text format 0.0.4.

Usage:
    promcheck.py [--require NAME]... [--print-value SELECTOR]... FILE|-

Valid input: exit 0, print "OK: N families, M samples" (after one line per
--print-value, in the order given, holding that sample's value exactly as
written). Invalid input: print every problem as "line N: message" (sorted
by line; "line 0" means the document as a whole) and exit 1. Bad usage: 2.

  --require NAME        fail unless metric family NAME (the family name, so
                        "x" for a histogram, not "x_bucket") has a sample.
  --print-value SEL     SEL is name or name{l="v",...}; the label set must
                        match the sample's exactly (in any order).

What is checked (for CI of shunt's /metrics; stricter than the spec where
the spec is loose or parsers disagree):
  * bytes: UTF-8; no CR; every line, the last included, ends in LF.
    Empty lines and whitespace around a line are allowed (the spec says
    they are ignored).
  * "# HELP name text" / "# TYPE name type": valid name; HELP escapes only
    \\ and \n; type one of counter|gauge|histogram|summary|untyped
    (lower case, nothing after it); one HELP and one TYPE per family; TYPE
    before the family's first sample. "#HELP"/"#TYPE" without a blank are
    rejected (Go's expfmt reads them as metadata, Prometheus as comments).
    Any other "#" line is a comment.
  * a family is one contiguous block: it may not come back after another
    family started, and a family with HELP/TYPE must have samples (so a
    TYPE for "foo_total" followed by a sample "foo" fails).
  * samples: name [a-zA-Z_:][a-zA-Z0-9_:]*; labels {n="v",...} with no
    blanks inside the braces, no empty {}, no trailing comma; label names
    [a-zA-Z_][a-zA-Z0-9_]* not starting with __, no name twice; values
    double-quoted with only \\ \" \n escapes; a blank before the value;
    value as Go's strconv.ParseFloat reads it (decimal, hex with p
    exponent, Inf/+Inf/-Inf/Infinity, NaN; no "_", no overflow); optional
    int64 timestamp. No sample (name + label set) twice, and no sample
    name used by two families.
  * counter: family name ends in _total; samples are named exactly as the
    family; values >= 0, not NaN.
  * gauge/untyped: samples are named exactly as the family.
  * histogram x: only x_bucket (with le), x_sum, x_count (without le). Per
    label set without le: le values parse as floats and strictly increase
    in the order given, bucket counts do not decrease, a +Inf bucket
    exists and equals x_count, x_sum and x_count exist; counts >= 0.
  * summary x: x with quantile (a float in [0, 1]), x_sum and x_count
    (without quantile); per label set without quantile, x_sum and x_count
    exist; x_count >= 0.
"""
import argparse
import math
import re
import sys

NAME_RE = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')
LABEL_RE = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')
TYPES = ('counter', 'gauge', 'histogram', 'summary', 'untyped')
BLANKS = ' \t'

# strconv.ParseFloat syntax (underscores, which Go allows only with a 0x
# prefix, are refused here).
DEC_RE = re.compile(r'[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z')
HEX_RE = re.compile(r'[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)'
                    r'[pP][+-]?[0-9]+\Z')
INF_RE = re.compile(r'[+-]?(?:inf|infinity)\Z', re.I)
NAN_RE = re.compile(r'nan\Z', re.I)
TS_RE = re.compile(r'[+-]?[0-9]+\Z')


class Bad(Exception):
    """A problem with one line (the message)."""


def parse_float(s):
    """The float Go's strconv.ParseFloat(s, 64) gives, or raise Bad."""
    if INF_RE.match(s):
        return -math.inf if s[0] == '-' else math.inf
    if NAN_RE.match(s):
        return math.nan
    try:
        if DEC_RE.match(s):
            f = float(s)
        elif HEX_RE.match(s):
            f = float.fromhex(s)
        else:
            raise Bad('%r is not a float' % s)
    except OverflowError:
        f = math.inf
    if math.isinf(f):
        raise Bad('%r is out of float64 range' % s)
    return f


def fmt_num(f):
    if math.isnan(f):
        return 'NaN'
    if math.isinf(f):
        return '+Inf' if f > 0 else '-Inf'
    if f == int(f) and abs(f) < 1e15:
        return str(int(f))
    return repr(f)


def parse_labels(s, i):
    """Parse a label set starting at s[i] == '{'.

    Returns (list of (name, value), index after '}'). Raises Bad.
    """
    assert s[i] == '{'
    i += 1
    labels = []
    seen = set()
    if i < len(s) and s[i] == '}':
        raise Bad('empty label set "{}"')
    while True:
        if i >= len(s):
            raise Bad('unterminated label set')
        if s[i] in BLANKS:
            raise Bad('blank inside label set at column %d' % (i + 1))
        m = LABEL_RE.match(s, i)
        if not m:
            if s[i] == '}' and labels:
                raise Bad('trailing comma in label set')
            raise Bad('invalid label name at column %d' % (i + 1))
        name = m.group()
        i = m.end()
        if i < len(s) and s[i] not in '=,}' + BLANKS:
            raise Bad('invalid character %r in label name %r' % (s[i], name))
        if name.startswith('__'):
            raise Bad('label name %r is reserved (starts with "__")' % name)
        if name in seen:
            raise Bad('duplicate label name %r' % name)
        seen.add(name)
        if i >= len(s) or s[i] != '=':
            if i < len(s) and s[i] in BLANKS:
                raise Bad('blank inside label set at column %d' % (i + 1))
            raise Bad('expected "=" after label name %r' % name)
        i += 1
        if i >= len(s) or s[i] != '"':
            raise Bad('value of label %r is not double-quoted' % name)
        i += 1
        val = []
        while True:
            if i >= len(s):
                raise Bad('unterminated value of label %r' % name)
            c = s[i]
            if c == '"':
                i += 1
                break
            if c == '\\':
                if i + 1 >= len(s):
                    raise Bad('unterminated value of label %r' % name)
                e = s[i + 1]
                if e == '\\':
                    val.append('\\')
                elif e == '"':
                    val.append('"')
                elif e == 'n':
                    val.append('\n')
                else:
                    raise Bad('invalid escape "\\%s" in value of label %r '
                              '(only \\\\, \\" and \\n)' % (e, name))
                i += 2
                continue
            val.append(c)
            i += 1
        labels.append((name, ''.join(val)))
        if i >= len(s):
            raise Bad('unterminated label set')
        if s[i] == '}':
            return labels, i + 1
        if s[i] == ',':
            i += 1
            if i < len(s) and s[i] == '}':
                raise Bad('trailing comma in label set')
            continue
        if s[i] in BLANKS:
            raise Bad('blank inside label set at column %d' % (i + 1))
        raise Bad('expected "," or "}" after value of label %r' % name)


def parse_sample(s):
    """s: a sample line without surrounding blanks.

    Returns (name, labels, value token, float value, timestamp or None).
    """
    m = NAME_RE.match(s)
    if not m:
        raise Bad('invalid metric name at start of %r' % s[:40])
    name = m.group()
    i = m.end()
    labels = []
    if i < len(s) and s[i] == '{':
        labels, i = parse_labels(s, i)
    if i >= len(s):
        raise Bad('sample %r has no value' % name)
    if s[i] not in BLANKS:
        what = 'label set' if labels else 'metric name'
        raise Bad('invalid character %r after %s of %r' % (s[i], what, name))
    rest = re.split('[ \t]+', s[i:].lstrip(BLANKS))
    if len(rest) > 2:
        raise Bad('unexpected text %r after value and timestamp'
                  % ' '.join(rest[2:]))
    vtok = rest[0]
    try:
        value = parse_float(vtok)
    except Bad as e:
        raise Bad('invalid value: %s' % e)
    ts = None
    if len(rest) == 2:
        if not TS_RE.match(rest[1]):
            raise Bad('invalid timestamp %r (must be an integer)' % rest[1])
        ts = int(rest[1])
        if not -2**63 <= ts < 2**63:
            raise Bad('timestamp %r out of int64 range' % rest[1])
    return name, labels, vtok, value, ts


def check_help_text(text):
    i = 0
    while i < len(text):
        if text[i] == '\\':
            if i + 1 >= len(text):
                raise Bad('HELP text ends in a lone backslash')
            if text[i + 1] not in '\\n':
                raise Bad('invalid escape "\\%s" in HELP text (only \\\\ and '
                          '\\n)' % text[i + 1])
            i += 2
        else:
            i += 1


class Family:
    def __init__(self, name, line):
        self.name = name
        self.line = line            # first line (HELP, TYPE or sample)
        self.type = 'untyped'
        self.type_line = None
        self.help_line = None
        self.samples = []           # (line, name, labels, value)
        self.last_line = line
        self.empty_reported = False

    def declared(self):
        return self.type_line is not None or self.help_line is not None

    def sample_names(self):
        n = self.name
        if self.type == 'histogram':
            return (n + '_bucket', n + '_sum', n + '_count', n)
        if self.type == 'summary':
            return (n, n + '_sum', n + '_count')
        return (n,)

    def decl_desc(self):
        parts = []
        if self.type_line is not None:
            parts.append('TYPE %s at line %d' % (self.type, self.type_line))
        if self.help_line is not None:
            parts.append('HELP at line %d' % self.help_line)
        return ', '.join(parts)


class Checker:
    def __init__(self):
        self.problems = []          # (line, message)
        self.families = {}          # name -> Family, in order of appearance
        self.cur = None
        self.owner = {}             # sample name -> family name
        self.series = {}            # (name, sorted labels) -> (line, vtok)
        self.nsamples = 0

    def bad(self, line, msg):
        self.problems.append((line, msg))

    # ------------------------------------------------------------ input

    def run(self, data):
        if not data:
            return
        lines = data.split(b'\n')
        if lines[-1] == b'':
            lines.pop()
        else:
            self.bad(len(lines), 'missing newline at end of input')
        for n, raw in enumerate(lines, 1):
            if b'\r' in raw:
                self.bad(n, 'carriage return (CR) in line')
                raw = raw.replace(b'\r', b'')
            try:
                text = raw.decode('utf-8')
            except UnicodeDecodeError as e:
                self.bad(n, 'invalid UTF-8 at byte %d of the line: %s'
                         % (e.start + 1, e.reason))
                continue
            try:
                self.line(n, text)
            except Bad as e:
                self.bad(n, str(e))
        self.finish()

    def line(self, n, text):
        s = text.strip(BLANKS)
        if s == '':
            return                  # empty lines are ignored
        if s[0] == '#':
            self.comment(n, s)
        else:
            self.sample(n, s)

    # ------------------------------------------------------------ metadata

    def comment(self, n, s):
        body = s[1:]
        m = re.match(r'(HELP|TYPE)(?=[ \t]|\Z)', body)
        if m:
            raise Bad('"#%s" without a blank after "#" (write "# %s")'
                      % (m.group(1), m.group(1)))
        m = re.match(r'[ \t]+(HELP|TYPE)(?:[ \t]+|\Z)', body)
        if not m:
            return                  # an ordinary comment
        kw = m.group(1)
        rest = body[m.end():]
        nm = NAME_RE.match(rest)
        if not nm:
            raise Bad('%s line without a valid metric name' % kw)
        name = nm.group()
        rest = rest[nm.end():]
        if rest and rest[0] not in BLANKS:
            raise Bad('invalid metric name in %s line: %r'
                      % (kw, name + rest.split()[0]))
        arg = rest.lstrip(BLANKS)
        if kw == 'HELP':
            check_help_text(arg)
        else:
            if arg == '':
                raise Bad('TYPE line for %r without a type' % name)
            if arg not in TYPES:
                raise Bad('invalid type %r for %r (one of %s)'
                          % (arg, name, '|'.join(TYPES)))
        fam = self.enter_declared(n, name)
        if kw == 'HELP':
            if fam.help_line is not None:
                raise Bad('second HELP line for %r (first at line %d)'
                          % (name, fam.help_line))
            fam.help_line = n
        else:
            if fam.type_line is not None:
                raise Bad('second TYPE line for %r (first at line %d)'
                          % (name, fam.type_line))
            if fam.samples:
                raise Bad('TYPE line for %r after its first sample (line %d)'
                          % (name, fam.samples[0][0]))
            fam.type_line = n
            fam.type = arg
            if arg == 'counter' and not name.endswith('_total'):
                self.bad(n, 'counter %r: name must end in "_total"' % name)
        fam.last_line = n

    def enter_declared(self, n, name):
        """The family a HELP/TYPE line for name belongs to."""
        if self.cur is not None and self.cur.name == name:
            return self.cur
        fam = self.families.get(name)
        if fam is not None:
            self.bad(n, 'family %r reappears (it was at lines %d-%d; a '
                     'family must be one contiguous block)'
                     % (name, fam.line, fam.last_line))
        else:
            fam = Family(name, n)
            self.families[name] = fam
        self.cur = fam
        return fam

    # ------------------------------------------------------------ samples

    def find_family(self, name):
        """An earlier family (histogram/summary by suffix) owning name."""
        fam = self.families.get(name)
        if fam is not None:
            return fam
        for suf in ('_bucket', '_sum', '_count'):
            if name.endswith(suf):
                fam = self.families.get(name[:-len(suf)])
                if fam is not None and name in fam.sample_names():
                    return fam
        return None

    def sample(self, n, s):
        name, labels, vtok, value, _ts = parse_sample(s)
        self.nsamples += 1
        cur = self.cur
        if cur is not None and name in cur.sample_names():
            fam = cur
        else:
            fam = self.find_family(name)
            if fam is not None:
                self.bad(n, 'family %r reappears (it was at lines %d-%d; a '
                         'family must be one contiguous block)'
                         % (fam.name, fam.line, fam.last_line))
            else:
                if cur is not None and cur.declared() and not cur.samples:
                    what = {'counter': 'counter samples',
                            'gauge': 'gauge samples',
                            'untyped': 'its samples',
                            'histogram': 'histogram samples',
                            'summary': 'summary samples'}[cur.type]
                    names = '/'.join(repr(x) for x in cur.sample_names()
                                     if x != cur.name or
                                     cur.type != 'histogram')
                    self.bad(n, 'sample %r does not belong to the family '
                             '%r declared just before (%s), which has no '
                             'samples; %s must be named %s'
                             % (name, cur.name, cur.decl_desc(), what, names))
                    cur.empty_reported = True
                fam = Family(name, n)
                self.families[name] = fam
            self.cur = fam
        fam.last_line = n

        other = self.owner.setdefault(name, fam.name)
        if other != fam.name:
            self.bad(n, 'sample name %r is used by family %r and family %r'
                     % (name, other, fam.name))
        key = (name, tuple(sorted(labels)))
        prev = self.series.get(key)
        if prev is not None:
            self.bad(n, 'duplicate sample %s (first at line %d)'
                     % (series_str(name, labels), prev[0]))
        else:
            self.series[key] = (n, vtok)
        fam.samples.append((n, name, labels, value))
        getattr(self, 'sample_' + fam.type)(n, fam, name, labels, value)

    def sample_counter(self, n, fam, name, labels, value):
        if math.isnan(value):
            self.bad(n, 'counter %r: value is NaN' % name)
        elif value < 0:
            self.bad(n, 'counter %r: negative value %s' % (name, fmt_num(value)))

    def sample_gauge(self, n, fam, name, labels, value):
        pass

    sample_untyped = sample_gauge

    def sample_histogram(self, n, fam, name, labels, value):
        ln = [k for k, _ in labels]
        if name == fam.name:
            self.bad(n, 'histogram %r: sample %r not allowed (only %s_bucket, '
                     '%s_sum, %s_count)' % (fam.name, name, fam.name, fam.name,
                                            fam.name))
        elif name == fam.name + '_bucket':
            if 'le' not in ln:
                self.bad(n, 'histogram bucket %r without "le" label' % name)
            else:
                try:
                    le = parse_float(dict(labels)['le'])
                    if math.isnan(le):
                        self.bad(n, 'histogram bucket %r: le is NaN' % name)
                except Bad as e:
                    self.bad(n, 'histogram bucket %r: invalid le: %s'
                             % (name, e))
            self.nonneg_count(n, 'histogram bucket', name, value)
        else:
            if 'le' in ln:
                self.bad(n, 'histogram %r: "le" label on %r' % (fam.name, name))
            if name.endswith('_count'):
                self.nonneg_count(n, 'histogram count', name, value)

    def sample_summary(self, n, fam, name, labels, value):
        ln = [k for k, _ in labels]
        if name == fam.name:
            if 'quantile' not in ln:
                self.bad(n, 'summary %r: sample without "quantile" label'
                         % name)
            else:
                try:
                    q = parse_float(dict(labels)['quantile'])
                    if math.isnan(q) or not 0 <= q <= 1:
                        self.bad(n, 'summary %r: quantile %s not in [0, 1]'
                                 % (name, fmt_num(q)))
                except Bad as e:
                    self.bad(n, 'summary %r: invalid quantile: %s' % (name, e))
        else:
            if 'quantile' in ln:
                self.bad(n, 'summary %r: "quantile" label on %r'
                         % (fam.name, name))
            if name.endswith('_count'):
                self.nonneg_count(n, 'summary count', name, value)

    def nonneg_count(self, n, what, name, value):
        if math.isnan(value):
            self.bad(n, '%s %r: value is NaN' % (what, name))
        elif value < 0:
            self.bad(n, '%s %r: negative value %s' % (what, name,
                                                      fmt_num(value)))

    # ------------------------------------------------------------ the end

    def finish(self):
        for fam in self.families.values():
            if not fam.samples:
                if not fam.empty_reported:
                    self.bad(fam.line, 'family %r (%s) has no samples'
                             % (fam.name, fam.decl_desc()))
                continue
            if fam.type == 'histogram':
                self.finish_histogram(fam)
            elif fam.type == 'summary':
                self.finish_summary(fam)

    @staticmethod
    def groups(fam, drop):
        """Samples by label set without the label drop, in first-seen order."""
        g = {}
        for line, name, labels, value in fam.samples:
            key = tuple(sorted((k, v) for k, v in labels if k != drop))
            g.setdefault(key, []).append((line, name, dict(labels), value))
        return g

    def finish_histogram(self, fam):
        x = fam.name
        for key, samples in self.groups(fam, 'le').items():
            where = samples[0][0]
            desc = series_str(x, key)
            buckets, sums, counts = [], [], []
            for line, name, labels, value in samples:
                if name == x + '_bucket' and 'le' in labels:
                    try:
                        le = parse_float(labels['le'])
                    except Bad:
                        continue    # already reported
                    if math.isnan(le):
                        continue
                    buckets.append((line, le, value))
                elif name == x + '_sum' and 'le' not in labels:
                    sums.append(line)
                elif name == x + '_count' and 'le' not in labels:
                    counts.append((line, value))
            for (pl, ple, pv), (bl, le, v) in zip(buckets, buckets[1:]):
                if not le > ple:
                    self.bad(bl, 'histogram %s: bucket le=%s does not follow '
                             'le=%s (line %d) in increasing order'
                             % (desc, fmt_num(le), fmt_num(ple), pl))
                if v < pv:
                    self.bad(bl, 'histogram %s: bucket le=%s count %s is less '
                             'than le=%s count %s (line %d); buckets are '
                             'cumulative' % (desc, fmt_num(le), fmt_num(v),
                                             fmt_num(ple), fmt_num(pv), pl))
            inf = [b for b in buckets if b[1] == math.inf]
            if not inf:
                self.bad(where, 'histogram %s: no le="+Inf" bucket' % desc)
            if not sums:
                self.bad(where, 'histogram %s: no %s_sum sample' % (desc, x))
            if not counts:
                self.bad(where, 'histogram %s: no %s_count sample' % (desc, x))
            if inf and counts:
                il, _, iv = inf[0]
                cl, cv = counts[0]
                if not (iv == cv):
                    self.bad(cl, 'histogram %s: %s_count is %s but the '
                             'le="+Inf" bucket (line %d) is %s'
                             % (desc, x, fmt_num(cv), il, fmt_num(iv)))

    def finish_summary(self, fam):
        x = fam.name
        for key, samples in self.groups(fam, 'quantile').items():
            where = samples[0][0]
            desc = series_str(x, key)
            names = set(s[1] for s in samples if 'quantile' not in s[2])
            if x + '_sum' not in names:
                self.bad(where, 'summary %s: no %s_sum sample' % (desc, x))
            if x + '_count' not in names:
                self.bad(where, 'summary %s: no %s_count sample' % (desc, x))


def escape_value(v):
    return v.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')


def series_str(name, labels):
    if not labels:
        return name
    return '%s{%s}' % (name, ','.join('%s="%s"' % (k, escape_value(v))
                                      for k, v in labels))


def parse_selector(sel):
    m = NAME_RE.match(sel)
    if not m:
        raise Bad('invalid metric name')
    labels = []
    i = m.end()
    if i < len(sel):
        if sel[i] != '{':
            raise Bad('expected "{" after the name')
        labels, i = parse_labels(sel, i)
        if i != len(sel):
            raise Bad('unexpected text after "}"')
    return m.group(), tuple(sorted(labels))


def main():
    ap = argparse.ArgumentParser(
        description='Strict validator of the Prometheus text format 0.0.4.')
    ap.add_argument('file', metavar='FILE', help='input file, or - for stdin')
    ap.add_argument('--require', metavar='NAME', action='append', default=[],
                    help='fail unless family NAME is present with a sample')
    ap.add_argument('--print-value', metavar='SEL', action='append',
                    default=[], help='print the value of sample SEL '
                    '(name or name{l="v",...}); fail if absent')
    args = ap.parse_args()

    sels = []
    for sel in args.print_value:
        try:
            sels.append((sel, parse_selector(sel)))
        except Bad as e:
            ap.error('bad --print-value %r: %s' % (sel, e))
    for name in args.require:
        if not NAME_RE.fullmatch(name):
            ap.error('bad --require %r: invalid metric name' % name)

    try:
        if args.file == '-':
            data = sys.stdin.buffer.read()
        else:
            with open(args.file, 'rb') as f:
                data = f.read()
    except OSError as e:
        print('promcheck: %s' % e, file=sys.stderr)
        return 2

    c = Checker()
    c.run(data)

    for name in args.require:
        fam = c.families.get(name)
        if fam is None or not fam.samples:
            hint = ''
            if name in c.owner and c.owner[name] != name:
                hint = ' (%r is a sample of family %r)' % (name, c.owner[name])
            c.bad(0, 'required family %r is missing%s' % (name, hint))
    values = []
    for sel, key in sels:
        hit = c.series.get(key)
        if hit is None:
            c.bad(0, 'sample %s (--print-value) not found' % sel)
        else:
            values.append(hit[1])

    if c.problems:
        c.problems.sort(key=lambda p: p[0])
        for line, msg in c.problems:
            print('line %d: %s' % (line, msg))
        return 1
    for v in values:
        print(v)
    print('OK: %d families, %d samples' % (len(c.families), c.nsamples))
    return 0


if __name__ == '__main__':
    sys.exit(main())
