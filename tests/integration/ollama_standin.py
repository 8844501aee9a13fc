"""An Ollama stand-in: an HTTP server answering GET /api/version, /api/tags
and /api/ps with the shapes Ollama's API document gives (docs/api.md,
docs.ollama.com/api), for the models in `models` and `loaded`.

Limits: it serves only those three reads (no generate, pull or chat), its
answers are fixed apart from what a test sets, and `mode` makes it answer
wrongly on purpose: "ok", "badjson" (a truncated JSON document), "huge" (an
answer past the hub's 1 MiB cap), "many" (more models than the hub keeps),
"http500"."""
import http.server
import json
import threading

DIGEST = "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72"


def model(name, size, family="llama", params="3.2B", quant="Q4_K_M"):
    return {"name": name, "model": name, "modified_at": "2025-05-04T17:37:44.706015396-07:00",
            "size": size, "digest": DIGEST,
            "details": {"parent_model": "", "format": "gguf", "family": family,
                        "families": [family], "parameter_size": params,
                        "quantization_level": quant}}


class Ollama:
    def __init__(self, host="127.0.0.1", port=0, version="0.5.7"):
        self.host, self.port = host, port
        self.version = version
        self.mode = "ok"
        self.models = [model("llama3.2:latest", 2019393189),
                       model("qwen2.5-coder:7b", 4683087332, "qwen2", "7.6B")]
        self.loaded = [dict(model("llama3.2:latest", 3772318720), size_vram=3772318720,
                            expires_at="2026-12-07T16:47:07.93355Z", context_length=4096)]
        self.seen = []
        self.httpd = None

    def _handler(self):
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                outer.seen.append(self.path)
                if outer.mode == "http500":
                    return self._send(500, b'{"error":"boom"}')
                if self.path == "/api/version":
                    return self._send(200, json.dumps({"version": outer.version}).encode())
                if self.path not in ("/api/tags", "/api/ps"):
                    return self._send(404, b"404 page not found")
                if outer.mode == "badjson":
                    return self._send(200, b'{"models":[{"name":"half')
                if outer.mode == "huge":
                    pad = "x" * 100
                    big = [model(f"m{i}-{pad}"[:120], i) for i in range(10000)]
                    return self._send(200, json.dumps({"models": big}).encode())
                if outer.mode == "many":
                    many = [model(f"m{i}", i) for i in range(300)]
                    return self._send(200, json.dumps({"models": many}).encode())
                body = outer.models if self.path == "/api/tags" else outer.loaded
                return self._send(200, json.dumps({"models": body}).encode())

            def _send(self, code, body):
                self.send_response(code)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the hub hung up past its cap, as it should

        return H

    def start(self):
        self.httpd = http.server.ThreadingHTTPServer((self.host, self.port), self._handler())
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"
