#!/usr/bin/env python3
"""A hostile registrar for the pledge's replay test: it holds a real
registrar's certificate and key, and answers every requestvoucher with a
voucher captured from an earlier onboarding. Other POSTs (the pledge's
status reports) are appended to a file. Listens on 127.0.0.1 only, and
stops by itself after a number of connections or seconds.

usage: replaying_registrar.py CERT KEY CLIENT_CA VOUCHER REPORTS PORT_FILE
(the key's passphrase in $VOUCHSAFE_REGISTRAR_PASSPHRASE)"""
import http.server
import os
import ssl
import sys
import time

cert, key, client_ca, voucher_path, reports, port_file = sys.argv[1:7]
voucher = open(voucher_path, "rb").read()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(min(int(self.headers.get("Content-Length", "0")), 1 << 20))
        if self.path.endswith("/requestvoucher"):
            answer, kind = voucher, "application/voucher-cms+json"
        else:
            with open(reports, "ab") as f:
                f.write(self.path.encode() + b" " + body + b"\n")
            answer, kind = b"", "text/plain"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key, password=os.environ["VOUCHSAFE_REGISTRAR_PASSPHRASE"])
context.verify_mode = ssl.CERT_REQUIRED
context.load_verify_locations(client_ca)
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.timeout = 2
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
deadline = time.monotonic() + 30
for _ in range(4):
    if time.monotonic() > deadline:
        break
    server.handle_request()
