#!/usr/bin/python3
"""Registrar clients and the verdict for scripts/faults.

load:   C registrar clients post pre-made registrar voucher-requests (one
        pledge request and nonce each, from `masa_load --write-requests`)
        over a new TLS connection per request, with the signing registrar's
        certificate as the client certificate, for D seconds; one CSV line per
        request: index, target, start, end, status or error, Retry-After.
probe:  one request to one URL, recorded the same way (is an instance serving?).
report: joins the records with the audit log dumped from the stores and the
        fault timeline; prints the table; exits 1 if an invariant fails.
"""
import argparse
import csv
import http.client
import itertools
import json
import os
import socket
import ssl
import sys
import threading
import time
import urllib.parse

CMS = "application/voucher-cms+json"
PATH = "/.well-known/brski/requestvoucher"


def read_index(requests_dir):
    with open(os.path.join(requests_dir, "index.csv")) as f:
        return list(csv.DictReader(f))


class Registrars:
    """One TLS context per registrar: its certificate is the client's."""

    def __init__(self, directory, ca):
        self.directory, self.ca, self.contexts = directory, ca, {}
        self.lock = threading.Lock()

    def context(self, k):
        with self.lock:
            if k not in self.contexts:
                ctx = ssl.create_default_context(cafile=self.ca)
                ctx.check_hostname = False  # loopback; the chain is still verified
                base = os.path.join(self.directory, f"registrar-{k}")
                ctx.load_cert_chain(base + ".pem", base + ".key")
                self.contexts[k] = ctx
            return self.contexts[k]


def post(url, ctx, body, timeout):
    """(status, retry_after, error): error is '' or the kind of failure."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=timeout)
    try:
        conn.request("POST", PATH, body, {"Content-Type": CMS, "Accept": CMS})
        r = conn.getresponse()
        r.read()
        return r.status, r.getheader("Retry-After") or "", ""
    except socket.timeout:
        return 0, "", "hang"
    except ConnectionRefusedError:
        return 0, "", "refused"
    except ConnectionResetError:
        return 0, "", "reset"
    except (http.client.RemoteDisconnected, http.client.IncompleteRead, BrokenPipeError):
        return 0, "", "closed"
    except ssl.SSLError as e:
        # An EOF in the middle of the handshake is the peer closing.
        return 0, "", "closed" if "EOF" in str(e) or "UNEXPECTED_EOF" in str(e) else "tls"
    except OSError as e:
        return 0, "", f"os:{e.errno}"
    finally:
        conn.close()


def record_line(out, lock, idx, target, t0, t1, status, retry_after, error):
    with lock:
        out.write(f"{idx},{target},{t0:.4f},{t1:.4f},{status},{retry_after},{error}\n")
        out.flush()


def load(a):
    index = read_index(a.requests)
    last = min(len(index), a.last) if a.last else len(index)
    registrars = Registrars(a.registrars, a.ca)
    counter = itertools.count(a.first)
    lock = threading.Lock()
    out = open(a.record, "a")
    deadline = time.time() + a.duration
    per_client = a.rate / a.clients if a.rate > 0 else 0
    exhausted = threading.Event()

    def client():
        next_at = time.time()
        while time.time() < deadline and not (a.stop_file and os.path.exists(a.stop_file)):
            with lock:
                i = next(counter)
            if i >= last:
                exhausted.set()
                return
            row = index[i]
            body = open(os.path.join(a.requests, row["file"]), "rb").read()
            t0 = time.time()
            status, retry, error = post(a.url, registrars.context(row["registrar"]), body, a.timeout)
            record_line(out, lock, i, a.target, t0, time.time(), status, retry, error)
            if per_client:
                next_at += 1 / per_client
                pause = next_at - time.time()
                if pause > 0:
                    time.sleep(pause)
                else:
                    next_at = time.time()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.close()
    stopped = a.stop_file and os.path.exists(a.stop_file)
    if exhausted.is_set() and not stopped and time.time() < deadline - 1:
        print(f"faults_client: ran out of requests {deadline - time.time():.0f} s early",
              file=sys.stderr)
        return 1
    return 0


def probe(a):
    row = read_index(a.requests)[a.request]
    body = open(os.path.join(a.requests, row["file"]), "rb").read()
    ctx = Registrars(a.registrars, a.ca).context(row["registrar"])
    t0 = time.time()
    status, retry, error = post(a.url, ctx, body, a.timeout)
    with open(a.record, "a") as out:
        record_line(out, threading.Lock(), a.request, a.target, t0, time.time(), status, retry,
                    error)
    print(status if status else error)
    return 0 if status == 200 else 1


def report(a):
    index = read_index(a.requests)
    records = []
    with open(a.record) as f:
        for line in f:
            i, target, t0, t1, status, retry, error = line.rstrip("\n").split(",")
            records.append(dict(i=int(i), target=target, t0=float(t0), t1=float(t1),
                                status=int(status), retry=retry, error=error))
    # Audit entries per (store, nonce), as dumped by scripts/faults.
    audit = {}
    for store, path in (s.split("=", 1) for s in a.audit):
        counts = {}
        with open(path) as f:
            for line in f:
                if "|" in line:
                    nonce, n = line.rstrip("\n").rsplit("|", 1)
                    counts[nonce] = int(n)
        audit[store] = counts
    faults = [json.loads(line) for line in open(a.faults)]
    kills = [f["at"] for f in faults if f.get("kill")]
    failures = []

    def fail(msg):
        if len(failures) < 20:
            print("INVARIANT: " + msg, file=sys.stderr)
        failures.append(msg)

    vouchers = sum(1 for r in records if r["status"] == 200)
    in_flight_on_killed = 0
    by_kind = {}
    for r in records:
        kind = str(r["status"]) if r["status"] else r["error"]
        by_kind[kind] = by_kind.get(kind, 0) + 1
        nonce = index[r["i"]]["nonce"]
        if r["status"] == 200:
            n = audit.get(r["target"], {}).get(nonce, 0)
            if n != 1:
                fail(f"request {r['i']} ({r['target']}): a voucher with {n} audit entries for "
                     f"nonce {nonce}")
        elif r["status"] == 503:
            if not r["retry"]:
                fail(f"request {r['i']}: 503 without Retry-After")
        elif r["status"] == 0 and r["error"] in ("reset", "closed") and any(
                r["t0"] - 0.5 <= k <= r["t1"] + 0.5 for k in kills):
            in_flight_on_killed += 1
        else:
            fail(f"request {r['i']} ({r['target']}) at {r['t0']:.2f}: "
                 f"{r['status'] or r['error']} is neither a voucher nor a 503")
    duplicates = sum(1 for counts in audit.values() for n in counts.values() if n > 1)
    if duplicates:
        fail(f"{duplicates} nonces with more than one audit entry")

    ok_times = sorted(r["t1"] for r in records if r["status"] == 200 and r["target"] == "cluster")
    print(f"\n{len(records)} requests: {vouchers} vouchers; by outcome: "
          + ", ".join(f"{k}={v}" for k, v in sorted(by_kind.items())))
    print(f"in flight on a killed instance (allowed to fail): {in_flight_on_killed}")
    span = (max(r["t1"] for r in records) - min(r["t0"] for r in records)) if records else 0
    print(f"load ran {span:.1f} s; every voucher has exactly one audit entry with its nonce: "
          f"{'yes' if not any('audit' in f for f in failures) else 'NO'}")
    print()
    header = ("fault", "recovered (s)", "longest gap between vouchers (s)", "503", "failed",
              "serving after")
    rows = []
    for k, f in enumerate(faults):
        # A fault's window: 10 s, or up to the next fault on the same target.
        end = f["at"] + f.get("window", 10)
        for later in faults[k + 1:]:
            if later.get("target", "cluster") == f.get("target", "cluster"):
                end = min(end, later["at"])
                break
        window = [r for r in records if f["at"] - 0.05 <= r["t0"] < end
                  and r["target"] == f.get("target", "cluster")]
        times = sorted(r["t1"] for r in window if r["status"] == 200)
        edges = [f["at"]] + times
        gap = max((b - a for a, b in zip(edges, edges[1:])), default=float("nan"))
        if not times:
            gap = float("nan")
        rows.append((f["name"], "-" if f.get("recovered") is None else f"{f['recovered']:.2f}",
                     f"{gap:.2f}", str(sum(1 for r in window if r["status"] == 503)),
                     str(sum(1 for r in window if r["status"] not in (200, 503))),
                     f.get("serving", "?")))
        if f.get("recovered") is None and not f.get("skipped"):
            fail(f"{f['name']}: did not recover")
        if f.get("serving") not in ("yes", None) and not f.get("skipped"):
            fail(f"{f['name']}: not every instance serves again ({f.get('serving')})")
    widths = [max(len(h), *(len(r[c]) for r in rows)) if rows else len(h)
              for c, h in enumerate(header)]
    line = " | ".join(h.ljust(w) for h, w in zip(header, widths))
    print(line)
    print("-" * len(line))
    for r in rows:
        print(" | ".join(v.ljust(w) for v, w in zip(r, widths)))
    if ok_times:
        rate = len(ok_times) / max(1e-9, ok_times[-1] - ok_times[0])
        print(f"\nthrough haproxy: {len(ok_times)} vouchers, {rate:.0f}/s on average, faults included")
    print(f"\ninvariants: {'all hold' if not failures else str(len(failures)) + ' violations'}")
    return 1 if failures else 0


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("load", "probe"):
        s = sub.add_parser(name)
        s.add_argument("--url", required=True)
        s.add_argument("--ca", required=True, help="the MASA's TLS CA")
        s.add_argument("--registrars", required=True, help="DIR with registrar-K.pem/.key")
        s.add_argument("--requests", required=True, help="masa_load --write-requests DIR")
        s.add_argument("--record", required=True)
        s.add_argument("--target", default="cluster", help="the store the audit check reads")
        s.add_argument("--timeout", type=float, default=15, help="longer is a hang")
    lo = sub.choices["load"]
    lo.add_argument("--clients", type=int, default=8)
    lo.add_argument("--duration", type=float, default=60)
    lo.add_argument("--rate", type=float, default=0, help="requests/s in all; 0: as fast as it goes")
    lo.add_argument("--stop-file", default="", help="stop early once this file exists")
    lo.add_argument("--first", type=int, default=0)
    lo.add_argument("--last", type=int, default=0, help="exclusive; 0: all")
    sub.choices["probe"].add_argument("--request", type=int, required=True)
    r = sub.add_parser("report")
    r.add_argument("--requests", required=True)
    r.add_argument("--record", required=True)
    r.add_argument("--faults", required=True, help="JSON lines: name, at, recovered, serving")
    r.add_argument("--audit", action="append", default=[], help="TARGET=FILE of nonce|count")
    a = p.parse_args()
    return {"load": load, "probe": probe, "report": report}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
