#!/usr/bin/env python3
"""Regenerate tests/fuzz/corpus/ (the seeds) from tests/fixtures/ and
/work/shared/data (when present).  Deterministic; a few KB per target.
Run from the source tree's root: python3 tests/fuzz/seeds.py"""
import gzip, json, os, shutil

OUT = "tests/fuzz/corpus"
SHARED = "/work/shared/data"
CONNS = {"binance-usdm": ["public", "market"], "hyperliquid": ["public", "agg"]}
TARGET = {"binance-usdm": "binance", "bybit-linear": "bybit", "okx-swap": "okx",
          "hyperliquid": "hyperliquid"}


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def lines(path):
    if not os.path.exists(path):
        return []
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt") as f:
        return [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]


def trim(frame, n=4):
    """Cut every level list in a frame to n levels (books stay books)."""
    try:
        o = json.loads(frame)
    except ValueError:
        return frame

    def walk(x):
        if isinstance(x, dict):
            if "checksum" in x:
                x["checksum"] = 0              # OKX: not checked when 0
            for k, v in x.items():
                if k in ("b", "a", "bids", "asks") and isinstance(v, list):
                    x[k] = v[:n]
                elif k == "levels" and isinstance(v, list):
                    x[k] = [side[:n] if isinstance(side, list) else side for side in v]
                else:
                    walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(o)
    return json.dumps(o, separators=(",", ":"))


def session(caps, venue, limit):
    """A session in fz_venue.c's line format from capture records."""
    conns = CONNS.get(venue, ["public"])
    out = ["o%d" % i for i in range(len(conns))]
    n = 0
    for c in caps:
        if c["venue"] != venue:
            continue
        f = trim(c["frame"])
        if c["src"] == "rest":
            out.append("R%s %s" % (c["url"], f))
        else:
            out.append("w%d %s" % (conns.index(c.get("conn", "public")), f))
        n += 1
        if n % 15 == 0:
            out.append("t")
        if n >= limit:
            break
    out.append("c0")
    out.append("t")
    return "\n".join(out) + "\n"


def venues():
    caps = [json.loads(l) for l in lines("tests/fixtures/captures/vsim-4venues.jsonl.gz")]
    for venue, t in TARGET.items():
        put(t, "vsim-session", session(caps, venue, 18))
        put(t, "vsim-short", session(caps, venue, 8))
        docs = []
        for name in sorted(os.listdir("tests/fixtures/venues/" + venue)):
            if name.endswith(".jsonl") and "cryptofeed" not in name:
                docs += [trim(l) for l in lines("tests/fixtures/venues/%s/%s" % (venue, name))]
        docs += lines("%s/venues/%s.jsonl" % (SHARED, venue))
        put(t, "docs-frames", "o0\n" + "\n".join(docs[:12]) + "\nt\n")
    # replay mode: instruments nobody configured
    for name, t in (("binance-solusdt-unconfigured.jsonl", "binance"),
                    ("bybit-orderbook50.jsonl", "bybit"),
                    ("real-liquidations.jsonl", None)):
        caps = [json.loads(l) for l in lines("tests/fixtures/captures/" + name)]
        for venue, tt in TARGET.items():
            if t not in (None, tt):
                continue
            s = session(caps, venue, 10)
            if s.count("\n") > 4:
                put(tt, "replay-" + name.split(".")[0], "#replay\n" + s)
    okx = lines("tests/fixtures/venues/okx-swap/rest-books-docs-example.json")
    if okx:
        put("okx", "rest-seed", "o0\nR/api/v5/market/books?instId=BTC-USDT-SWAP&sz=400 %s\n" % okx[0])


def captures():
    caps = lines("tests/fixtures/captures/vsim-4venues.jsonl.gz")
    plain = "\n".join(caps[:12]) + "\n"
    small = [json.loads(l) for l in caps[:12]]
    for c in small:
        c["frame"] = trim(c["frame"])
    plain = "".join(json.dumps(c, separators=(",", ":")) + "\n" for c in small)
    put("capture", "plain", plain)
    put("capture", "gzip", gzip.compress(plain.encode(), mtime=0))
    put("capture", "gzip-truncated", gzip.compress(plain.encode(), mtime=0)[:-9])
    put("capture", "bad-lines", open("tests/fixtures/captures/binance-testnet-older-than-snapshot.jsonl").read()[:600]
        + '{"ts":1,"venue":"okx-swap","src":"ws","frame_b64":"e30="}\n{"ts":"x"}\nnot json\n'
        + '{"ts":2,"venue":"hyperliquid","src":"rest","url":"/info","conn":"p\\u00e9","frame":"\\ud83d\\ude00\\u0000"}\n'
        + '{"ts":3,"venue":"bybit-linear","src":"ws","frame":"cut')
    put("capture", "real-liquidations", "\n".join(lines("tests/fixtures/captures/real-liquidations.jsonl")[:4]) + "\n")


def text_files(target, paths):
    for p in paths:
        if os.path.exists(p):
            with open(p, "rb") as f:
                put(target, os.path.basename(p), f.read()[:3000])


def control():
    csv = open("conf/examples/positions.csv").read().splitlines()
    put("control", "post-csv", "POST /v1/positions\nContent-Type: text/csv\n\n"
        + "\n".join(csv[:4]) + "\n%%\nGET /v1/positions?instrument=binance-usdm:BTCUSDT&limit=2\n"
        + "%%\nGET /v1/cascade/binance-usdm/BTCUSDT\n%%\nGET /v1/status\n")
    put("control", "post-json", 'POST /v1/positions\nContent-Type: application/json\n\n'
        '[{"id":"a1","venue":"binance-usdm","symbol":"BTCUSDT","side":"long","qty":"0.5",'
        '"entry":90000,"margin":5000},{"id":"a2","venue":"binance-usdm","symbol":"BTCUSDT",'
        '"side":"short","qty":1.25,"entry":90100,"liq_price":99000}]\n%%\n'
        'DELETE /v1/positions/a1?instrument=binance-usdm:BTCUSDT\n%%\n'
        'DELETE /v1/positions/a1\n%%\nGET /v1/positions\n')
    put("control", "post-ndjson", 'POST /v1/positions\nContent-Type: application/x-ndjson\n\n'
        '{"id":"n1","venue":"binance-usdm","symbol":"ETHUSDT","side":"long","qty":"2","entry":3000,"liq_price":2500}\n'
        '{"id":"n1","venue":"binance-usdm","symbol":"ETHUSDT","side":"long","qty":"2","entry":3000,"liq_price":2500}\n'
        '%%\nPUT /v1/positions\n%%\nPOST /v1/positions\nContent-Type: text/plain\n\nx\n')
    put("control", "alerts", "GET /v1/alerts?since=2026-01-31T12:00:00.5Z&kind=cascade_risk&severity=warning&limit=5\n"
        "%%\nGET /v1/alerts?since=1795573929000000000\n%%\nGET /v1/alerts/active\n%%\n"
        "GET /v1/instruments\n%%\nHEAD /v1/status\n%%\nGET /v1/nothing\n%%\nPOST /v1/alerts\n")


def dicts():
    """tests/fuzz/dict/<target>.dict: the keys and short words of the seeds'
    JSON (libFuzzer splices them in)."""
    d = "tests/fuzz/dict"
    os.makedirs(d, exist_ok=True)
    for t in sorted(os.listdir(OUT)):
        words = set()

        def walk(x):
            if isinstance(x, dict):
                for k, v in x.items():
                    words.add('"%s":' % k)
                    walk(v)
            elif isinstance(x, list):
                for v in x:
                    walk(v)
            elif isinstance(x, str) and len(x) <= 24 and not x.replace(".", "").replace("-", "").isdigit():
                words.add('"%s"' % x)
                if x[:1] in "{[":
                    try:
                        walk(json.loads(x))
                    except ValueError:
                        pass
        for name in sorted(os.listdir(os.path.join(OUT, t))):
            with open(os.path.join(OUT, t, name), "rb") as f:
                text = f.read().decode("utf-8", "replace")
            for line in text.splitlines():
                j = line[line.find(" ") + 1:] if line[:1] in "wrR" else line
                for cand in (line, j):
                    try:
                        walk(json.loads(cand))
                        break
                    except ValueError:
                        pass
        words = sorted(w for w in words if all(32 <= ord(c) < 127 for c in w))
        if words:
            with open(os.path.join(d, t + ".dict"), "w") as f:
                f.write("# made by tests/fuzz/seeds.py from the seeds\n")
                for w in words[:400]:
                    f.write('"%s"\n' % w.replace("\\", "\\\\").replace('"', '\\"'))


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    put("jtok", "object", '{"a":[1,-2.5e3,true,false,null],"b":"x\\u00e9\\ud83d\\ude00\\n","c":{"":{}},"a":0}')
    put("jtok", "numbers", '[0,-0,1e400,123456789012345678901234567890,9223372036854775807,-9223372036854775808,1E-400,0.1]')
    for v in ("binance-usdm", "bybit-linear"):
        for i, l in enumerate(lines("tests/fixtures/venues/%s/shared.jsonl" % v)[:2]):
            put("jtok", "%s-%d" % (v, i), l)
    for n, t in (("small", "0.00000001"), ("half-even", "2.000000005"), ("big", "999999999999999999999999.99999999"),
                 ("exp", "-1.5e-3"), ("range", "1e25"), ("long", "0." + "0" * 40 + "1e41"),
                 ("digits", "12345678901234567890123456789012345678901234567890e-26")):
        put("dec", n, t)
    venues()
    captures()
    text_files("posfile", ["tests/fixtures/positions/good.csv", "tests/fixtures/positions/bad.csv",
                           "tests/fixtures/positions/good.jsonl", "tests/fixtures/positions/bad.jsonl"])
    text_files("scenario", ["tests/fixtures/scenarios/contract-example.json"])
    for d in sorted(os.listdir("tests/fixtures/bad"))[:8]:
        text_files("scenario", ["tests/fixtures/bad/%s/input.json" % d])
        os.replace(os.path.join(OUT, "scenario", "input.json"), os.path.join(OUT, "scenario", "bad-" + d))
    text_files("config", ["conf/liqmond.conf"])
    put("config", "small", "[daemon]\nstale_after = 30s\nbackoff_min = 250ms\n[risk]\nshocks = 0, 0.01\n"
        "sides = down\n[venue okx-swap]\nsymbols = BTC-USDT-SWAP\n[alerts]\nwarn = 0.05\ncrit = 0.02\n")
    put("config", "bad", "[daemon]\nstale_after = 0.5ms\n[venue nope]\nx = 1\n[venue bybit-linear]\nsymbols = A A\n")
    control()
    dicts()


main()
