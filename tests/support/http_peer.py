# A CPython http.server peer for the HTTP client's tests: it prints "PORT:<n>" once listening
# on 127.0.0.1 and serves until killed. HTTP/1.1 with keep-alive; one thread per connection.
#
#   /hello                 200, text/plain "hello world"
#   /echo                  JSON: method, path, headers, body (any method)
#   /status/<n>            status n with its reason phrase
#   /redirect/<code>?to=U  a redirect with Location U
#   /chain/<n>             n redirects (302) before /hello
#   /chunked               a chunked body of 5 lines
#   /gzip, /deflate        "compressed " * 1000, encoded
#   /corrupt-gzip          Content-Encoding: gzip with bytes that are not gzip
#   /latin1                text/plain; charset=iso-8859-1 "café"
#   /nocharset-latin1      text/plain without charset, a French paragraph in latin-1
#   /nocharset-sjis        text/html without charset, a Japanese paragraph in Shift_JIS
#   /lines                 1000 numbered lines, Content-Length
#   /stall-head            never answers (sleeps 30 s)
#   /stall-body            Content-Length 1000000, sends 1000 bytes, then sleeps 30 s
#   /short-body            Content-Length 100, sends 10 bytes and closes
#   /garbage               a status line that is not HTTP
#   /once                  answers the first request on a connection; closes the connection
#                          without an answer on any later one
#   /connections           the number of connections accepted so far
import ctypes
import gzip
import json
import signal
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

accepted = 0
FRENCH = ("Déjà l'été s'achève : les élèves rentrent à l'école, où la maîtresse, très "
          "fâchée, réclame les cahiers oubliés près de la fenêtre. Ça arrive à chaque "
          "rentrée, hélas, même aux meilleurs élèves de la classe.\n")
JAPANESE = ("<p>吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。"
            "何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。"
            "吾輩はここで始めて人間というものを見た。</p>\n")
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # no 40 ms stall between the head and the body writes

    def log_message(self, *args):
        pass

    def setup(self):
        global accepted
        super().setup()
        with lock:
            accepted += 1
        self.served = 0

    def send_body(self, status, body, ctype="text/plain; charset=utf-8", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        self.served += 1
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        head = parts[0]
        if head == "hello":
            self.send_body(200, b"hello world")
        elif head == "echo":
            doc = {"method": self.command, "path": self.path,
                   "headers": {k: v for k, v in self.headers.items()},
                   "body": body.decode("latin-1")}
            self.send_body(200, json.dumps(doc).encode(), "application/json")
        elif head == "status":
            self.send_body(int(parts[1]), b"status " + parts[1].encode())
        elif head == "redirect":
            to = parse_qs(url.query)["to"][0]
            self.send_body(int(parts[1]), b"moved", extra=[("Location", to)])
        elif head == "chain":
            n = int(parts[1])
            self.send_body(302, b"", extra=[("Location", "/chain/%d" % (n - 1) if n > 1 else "/hello")])
        elif head == "chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(5):
                data = ("chunk %d\n" % i).encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        elif head in ("gzip", "deflate"):
            data = b"compressed " * 1000
            packed = gzip.compress(data) if head == "gzip" else zlib.compress(data)
            self.send_body(200, packed, extra=[("Content-Encoding", head)])
        elif head == "corrupt-gzip":
            self.send_body(200, b"\x1f\x8b this is not really gzip data", extra=[("Content-Encoding", "gzip")])
        elif head == "latin1":
            self.send_body(200, "café".encode("latin-1"), "text/plain; charset=iso-8859-1")
        elif head == "nocharset-latin1":
            self.send_body(200, FRENCH.encode("latin-1"), "text/plain")
        elif head == "nocharset-sjis":
            self.send_body(200, JAPANESE.encode("shift_jis"), "text/html")
        elif head == "lines":
            self.send_body(200, b"".join(b"line %d\n" % i for i in range(1000)))
        elif head == "stall-head":
            time.sleep(30)
        elif head == "stall-body":
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            self.wfile.write(b"x" * 1000)
            self.wfile.flush()
            time.sleep(30)
        elif head == "short-body":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"y" * 10)
            self.wfile.flush()
            self.close_connection = True
        elif head == "garbage":
            self.wfile.write(b"HTTP/1.1 2x0 NOPE\r\n\r\n")
            self.wfile.flush()
            self.close_connection = True
        elif head == "once":
            if self.served > 1:
                self.close_connection = True
                return
            self.send_body(200, b"once")
        elif head == "connections":
            self.send_body(200, str(accepted).encode())
        else:
            self.send_body(404, b"not found")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


# Die with the test process, even when it crashes (PR_SET_PDEATHSIG).
ctypes.CDLL(None).prctl(1, signal.SIGTERM)
server = Server(("127.0.0.1", 0), Handler)
print("PORT:%d" % server.server_address[1], flush=True)
server.serve_forever()
