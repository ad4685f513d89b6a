#!/usr/bin/env python3
"""Turns upstream CEL test cases into Palisade's data-driven case files.

Reads (from git mirrors given on the command line) the table-driven Go tests
of k8s.io/apiserver's CEL libraries, the `valid`/`errors` expressions of
apiextensions-apiserver's validation tests that do not read `self`, and the
cel-spec simple conformance textprotos; writes one YAML file per library
under testdata/cel-conformance/upstream/. Only test data is extracted: each
case is an expression, the value it must give (as a CEL expression) or the
stage at which it must fail. See SOURCES.md.

usage: extract.py APISERVER_GIT APIEXTENSIONS_GIT CELSPEC_GIT
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

OUT = Path(__file__).resolve().parent / "upstream"


def show(repo, path):
    return subprocess.run(
        ["git", "--git-dir", repo, "show", f"HEAD:{path}"],
        check=True, capture_output=True, text=True).stdout


def head(repo):
    return subprocess.run(["git", "--git-dir", repo, "rev-parse", "HEAD"],
                          check=True, capture_output=True, text=True).stdout.strip()


GO_STR = r'(?:"(?:[^"\\\n]|\\.)*"|`[^`]*`)'


def go_str(lit):
    if lit.startswith("`"):
        return lit[1:-1]
    return json.loads(lit)  # Go's escapes in these files are JSON's


def cel_str(s):
    """A CEL string literal: `\\u`/`\\U` escapes for what is not printable
    ASCII (CEL has no surrogate pairs)."""
    out = []
    for ch in s:
        o = ord(ch)
        if ch in "\\\"":
            out.append("\\" + ch)
        elif 0x20 <= o < 0x7f:
            out.append(ch)
        elif o < 0x10000:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    return '"' + "".join(out) + '"'


def go_value(text, env):
    """The CEL expression of a Go expected value, or None."""
    t = text.strip().rstrip(",")
    simple = {"trueVal": "true", "types.True": "true", "types.Bool(true)": "true",
              "falseVal": "false", "types.False": "false", "types.Bool(false)": "false",
              "types.OptionalNone": "optional.none()"}
    if t in simple:
        return simple[t]
    if t in env:
        return env[t]
    m = re.fullmatch(r"types\.(Int|Double|Uint)\((-?[0-9.]+)\)", t)
    if m:
        n = m.group(2)
        return {"Int": n, "Uint": n + "u",
                "Double": n if "." in n else n + ".0"}[m.group(1)]
    m = re.fullmatch(r"types\.String\((" + GO_STR + r")\)", t)
    if m:
        return cel_str(go_str(m.group(1)))
    m = re.fullmatch(r"types\.OptionalOf\(types\.NewStringList\(types\.DefaultTypeAdapter, \[\]string\{(.*)\}\)\)", t, re.S)
    if m:
        items = [cel_str(go_str(s)) for s in re.findall(GO_STR, m.group(1))]
        return "optional.of([" + ", ".join(items) + "])"
    m = re.fullmatch(r"apiservercel\.IP\{Addr: (\w+)\}", t)
    if m and m.group(1) in env:
        return f"ip({env[m.group(1)]})"
    m = re.fullmatch(r"apiservercel\.CIDR\{Prefix: (\w+)\}", t)
    if m and m.group(1) in env:
        return f"cidr({env[m.group(1)]})"
    m = re.fullmatch(r"apiservercel\.CIDR\{Prefix: netip\.PrefixFrom\((\w+), (\d+)\)\}", t)
    if m and m.group(1) in env:
        return f"cidr({cel_str(json.loads(env[m.group(1)]) + '/' + m.group(2))})"
    m = re.fullmatch(r"apiservercel\.Quantity\{Quantity: &(\w+)\}", t)
    if m and m.group(1) in env:
        return f"quantity({env[m.group(1)]})"
    m = re.fullmatch(r"apiservercel\.Semver\{Version: semver\.MustParse\((" + GO_STR + r")\)\}", t)
    if m:
        return f"semver({cel_str(go_str(m.group(1)))})"
    return None


FIELD = re.compile(r"^\s*(name|expr|expect\w*|version):\s*(.*)$")


def go_cases(src, lib):
    """Cases of a table-driven library test."""
    env = {}
    for var, fn, lit in re.findall(r"(\w+)(?:, _)? :?= (netip\.ParseAddr|netip\.ParsePrefix|resource\.MustParse)\((" + GO_STR + r")\)", src):
        env[var] = cel_str(go_str(lit))
    for var, n in re.findall(r"(\w+) := types\.Int\((-?\d+)\)", src):
        env[var] = n
    cases, cur, lines = [], None, src.splitlines()
    i = 0
    while i < len(lines):
        m = FIELD.match(lines[i])
        if not m:
            i += 1
            continue
        key, rest = m.groups()
        # a value may continue over lines until its brackets balance
        while rest.count("(") + rest.count("{") > rest.count(")") + rest.count("}") and i + 1 < len(lines):
            i += 1
            rest += "\n" + lines[i]
        if key == "name":
            lit = rest.strip().rstrip(",")
            # generated cases (fmt.Sprintf) are not data: left out
            cur = {"name": go_str(lit)} if re.fullmatch(GO_STR, lit) else None
            if cur is not None:
                cases.append(cur)
        elif cur is not None:
            cur[key] = rest.strip().rstrip(",")
        i += 1
    out = []
    for c in cases:
        if "expr" not in c or not re.fullmatch(GO_STR, c["expr"]):
            continue
        case = {"name": c["name"], "expr": go_str(c["expr"])}
        if "version" in c:
            case["library_version"] = int(c["version"])
        comp = [v for k, v in c.items() if "Compile" in k]
        run = [v for k, v in c.items() if "Runtime" in k and v not in ('""', "``")]
        val = [v for k, v in c.items() if k in ("expectResult", "expectValue")]
        if comp and comp[0] not in ("nil", "[]string{}"):
            case["error"] = {"stage": "compile",
                             "upstream": [go_str(s) for s in re.findall(GO_STR, comp[0])]}
        elif run:
            case["error"] = {"stage": "runtime", "upstream": go_str(run[0])}
        elif val:
            v = go_value(val[0], env)
            if v is None:
                print(f"{lib}: {c['name']}: value not translated: {val[0]}", file=sys.stderr)
                continue
            case["value"] = v
        else:
            continue
        out.append(case)
    return out


def crd_cases(src):
    """`valid` and `errors` expressions of the CRD validation tests that
    read no object (`self`, `oldSelf`)."""
    out, seen = [], set()
    for block in re.finditer(r"valid: \[\]string\{(.*?)\n\t\t\t\},", src, re.S):
        for lit in re.findall(r"^\s*(" + GO_STR + r"),", block.group(1), re.M):
            e = go_str(lit)
            if re.search(r"\b(self|oldSelf)\b", e) or e in seen:
                continue
            seen.add(e)
            out.append({"name": e, "expr": e, "value": "true"})
    for block in re.finditer(r"errors: map\[string\]string\{(.*?)\n\t\t\t\},", src, re.S):
        for k, v in re.findall(r"^\s*(" + GO_STR + r"):\s*(" + GO_STR + r"),", block.group(1), re.M):
            e = go_str(k)
            if re.search(r"\b(self|oldSelf)\b", e) or e in seen:
                continue
            seen.add(e)
            out.append({"name": e, "expr": e, "error": {"stage": "any", "upstream": go_str(v)}})
    return out


# --- cel-spec textprotos -------------------------------------------------

TOKEN = re.compile(r'\s*(?:#[^\n]*\n|([A-Za-z_][\w./]*)|("(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')|(-?[0-9][0-9.eE+\-]*u?|-inf|-nan)|([{}:\[\],<>]))', re.S)


def tokens(text):
    """Tokens, with adjacent string literals joined (as protobuf does)."""
    pending = None
    for kind, t in raw_tokens(text):
        if kind == "str":
            pending = (pending or b"") + unquote_proto(t)
            continue
        if pending is not None:
            yield ("str", pending)
            pending = None
        yield (kind, t)
    if pending is not None:
        yield ("str", pending)


def raw_tokens(text):
    pos = 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            if text[pos:].strip() == "":
                return
            raise ValueError(text[pos:pos + 40])
        pos = m.end()
        ident, s, num, punct = m.groups()
        if ident:
            yield ("id", ident)
        elif s:
            yield ("str", s)
        elif num:
            yield ("num", num)
        elif punct:
            yield ("p", punct)


def unquote_proto(s):
    body = s[1:-1]
    out, i = bytearray(), 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        n = body[i + 1]
        simple = {"n": 10, "t": 9, "r": 13, "\\": 92, "'": 39, '"': 34, "a": 7, "b": 8, "f": 12, "v": 11, "?": 63}
        if n in simple:
            out.append(simple[n])
            i += 2
        elif n in "01234567":
            j = i + 1
            while j < len(body) and j < i + 4 and body[j] in "01234567":
                j += 1
            out.append(int(body[i + 1:j], 8))
            i = j
        elif n == "x":
            j = i + 2
            while j < len(body) and j < i + 4 and body[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(int(body[i + 2:j], 16))
            i = j
        elif n in "uU":
            w = 4 if n == "u" else 8
            out += chr(int(body[i + 2:i + 2 + w], 16)).encode()
            i += 2 + w
        else:
            out += ("\\" + n).encode()
            i += 2
    return bytes(out)


def parse_msg(toks, end="}"):
    """A textproto message as a list of (field, value) pairs."""
    fields = []
    while True:
        kind, t = next(toks)
        if kind == "p" and t in (end, ">"):
            return fields
        if kind == "p" and t == ",":
            continue
        name = t
        kind, t = next(toks)
        if kind == "p" and t == ":":
            kind, t = next(toks)
        if kind == "p" and t in "{<":
            fields.append((name, parse_msg(toks, "}" if t == "{" else ">")))
        elif kind == "p" and t == "[":
            while True:
                kind, t = next(toks)
                if t == "]":
                    break
                if t == ",":
                    continue
                fields.append((name, parse_msg(toks) if t == "{" else t))
        else:
            if kind == "str":
                parts = [t]
                # adjacent string literals concatenate
                fields.append((name, parts))
            else:
                fields.append((name, t))


def merge_strings(fields):
    out = []
    for k, v in fields:
        if isinstance(v, list) and v and isinstance(v[0], bytes):
            if out and out[-1][0] == k and isinstance(out[-1][1], bytes) and False:
                pass
            out.append((k, v[0]))
        elif isinstance(v, list):
            out.append((k, merge_strings(v)))
        else:
            out.append((k, v))
    return out


def get(fields, k):
    return [v for n, v in fields if n == k]


def proto_value(fields):
    """The CEL expression of a cel.expr.Value, or None."""
    (k, v), = fields if len(fields) == 1 else [(None, None)]
    if k is None:
        return "{}" if not fields else None
    if k == "bool_value":
        return v
    if k == "int64_value":
        return v
    if k == "uint64_value":
        return v + "u"
    if k == "double_value":
        if v in ("inf", "Infinity"):
            return "double('Infinity')"
        if v in ("-inf", "-Infinity"):
            return "double('-Infinity')"
        if v.lower() == "nan":
            return None
        return f"double({json.dumps(v)})" if "e" in v.lower() else (v if "." in v else v + ".0")
    if k == "string_value":
        try:
            return cel_str(v.decode())
        except UnicodeDecodeError:
            return None
    if k == "bytes_value":
        return "b\"" + "".join(chr(b) if chr(b).isalnum() and b < 128 or b == 32 else f"\\x{b:02x}" for b in v) + "\""
    if k == "null_value":
        return "null"
    if k == "list_value":
        items = [proto_value(x) for x in get(v, "values")]
        return None if None in items else "[" + ", ".join(items) + "]"
    if k == "map_value":
        entries = []
        for e in get(v, "entries"):
            key, val = proto_value(get(e, "key")[0]), proto_value(get(e, "value")[0])
            if key is None or val is None:
                return None
            entries.append(f"{key}: {val}")
        return "{" + ", ".join(entries) + "}"
    if k == "type_value":
        return v.decode()
    return None


def spec_cases(text, file):
    fields = merge_strings(parse_msg(iter(list(tokens(text)) + [("p", "}")])))
    out, skipped = [], []
    for sec in get(fields, "section"):
        sname = get(sec, "name")[0].decode()
        for t in get(sec, "test"):
            tname = get(t, "name")[0].decode()
            name = f"{sname}/{tname}"
            expr = get(t, "expr")[0].decode()
            unsupported = [k for k in ("bindings", "type_env", "container", "typed_result", "unknown", "any_eval_errors", "any_unknowns", "check_only") if get(t, k)]
            if unsupported:
                skipped.append((name, "needs " + ", ".join(unsupported)))
                continue
            case = {"name": name, "expr": expr}
            if get(t, "disable_check"):
                case["disable_check"] = True
            val, err = get(t, "value"), get(t, "eval_error")
            if err:
                msgs = [get(e, "message")[0].decode() for e in get(err[0], "errors") if get(e, "message")]
                case["error"] = {"stage": "runtime", "upstream": "; ".join(msgs)}
            elif val:
                v = proto_value(val[0])
                if v is None:
                    skipped.append((name, "value not expressible in CEL source"))
                    continue
                case["value"] = v
            else:
                case["value"] = "true"  # a test without result expects true
            out.append(case)
    return out, skipped


LIBS = ["cidr", "ip", "quantity", "semver", "format"]
SPEC = ["basic", "comparisons", "conversions", "fp_math", "integer_math", "lists", "logic",
        "macros", "macros2", "optionals", "parse", "plumbing", "string", "string_ext",
        "timestamps", "type_deduction"]


class Dumper(yaml.SafeDumper):
    """Quotes every string that YAML 1.1 as kubectl reads it (gopkg.in/yaml.v2)
    would resolve to another type, such as `0e+0` (a float there; PyYAML's
    resolver wants a dot): the loader that reads these files follows kubectl."""


def _str(dumper, data):
    import re
    style = "'" if re.fullmatch(r"[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?", data) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


Dumper.add_representer(str, _str)


def write(name, source, cases, skipped=()):
    doc = {"source": source, "cases": cases}
    if skipped:
        doc["not_run"] = [{"name": n, "why": w} for n, w in skipped]
    (OUT / f"{name}.yaml").write_text(
        "# Generated by ../extract.py from upstream test data; see ../SOURCES.md.\n"
        + yaml.dump(doc, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=200))
    print(f"{name}: {len(cases)} cases, {len(skipped)} not run")


def main():
    apiserver, apiext, celspec = sys.argv[1:4]
    OUT.mkdir(exist_ok=True)
    for lib in LIBS:
        path = f"pkg/cel/library/{lib}_test.go"
        write(f"k8s-{lib}", f"kubernetes/apiserver@{head(apiserver)}:{path}",
              go_cases(show(apiserver, path), lib))
    path = "pkg/apiserver/schema/cel/validation_test.go"
    write("k8s-crd-validation", f"kubernetes/apiextensions-apiserver@{head(apiext)}:{path}",
          crd_cases(show(apiext, path)))
    for f in SPEC:
        path = f"tests/simple/testdata/{f}.textproto"
        cases, skipped = spec_cases(show(celspec, path), f)
        write(f"cel-spec-{f}", f"google/cel-spec@{head(celspec)}:{path}", cases, skipped)


if __name__ == "__main__":
    main()
