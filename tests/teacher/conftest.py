"""Helpers of the teacher tests: small question sets and a scripted OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cotdistill.data.example import Example

COLOURS = ["red", "blue", "green", "yellow", "purple", "orange", "black", "white"]


def make_examples(n: int, *, n_choices: int = 4) -> list[Example]:
    """``n`` distinct questions; question ``i`` is ``q{i}`` (servers in these tests key their behaviour on it)."""
    out = []
    for i in range(n):
        labels = "ABCDE"[:n_choices]
        choices = {lab: f"{COLOURS[(i + j) % len(COLOURS)]} thing {j}" for j, lab in enumerate(labels)}
        out.append(Example(id=f"q{i}", question=f"q{i}: which thing is the {COLOURS[i % 8]} one" + " really" * (i % 5),
                           choices=choices, answer=labels[i % n_choices]))
    return out


def question_number(body: dict) -> int:
    """Which test question a chat or completion request asks (the last ``q<i>:`` in it)."""
    text = body["messages"][-1]["content"] if "messages" in body else body["prompt"]
    start = text.rindex("Question: q") + len("Question: q")
    return int(text[start:text.index(":", start)])


Behaviour = Callable[[int, int], tuple[int, dict[str, str], bytes] | float | None]


class ScriptedServer:
    """An OpenAI-compatible server whose answer to try ``k`` (1-based) of question ``i`` is
    ``behaviour(i, k)``: ``None`` answers normally ("The answer is <A> because ..."), a float hangs that many
    seconds, a tuple is ``(status, headers, body)``. Every try is logged as ``(i, k, time)``."""

    def __init__(self, behaviour: Behaviour):
        self.behaviour = behaviour
        self.tries: dict[int, int] = defaultdict(int)
        self.log: list[tuple[int, int, float]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                i = question_number(body)
                with server.lock:
                    server.tries[i] += 1
                    k = server.tries[i]
                    server.log.append((i, k, time.monotonic()))
                action = server.behaviour(i, k)
                if isinstance(action, float):
                    time.sleep(action)
                    action = None
                if action is None:
                    content = f"The answer is A because reason {i}."
                    choice = ({"message": {"role": "assistant", "content": content}} if "messages" in body
                              else {"text": " " + content})
                    payload = json.dumps({"id": f"r{i}-{k}", "model": body["model"],
                                          "choices": [{"index": 0, "finish_reason": "stop", **choice}],
                                          "usage": {"prompt_tokens": 50, "completion_tokens": 7}}).encode()
                    action = (200, {"Content-Type": "application/json"}, payload)
                status, headers, payload = action
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on a hung request

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    # Requests of these tests go to 127.0.0.1 directly, never through a proxy named in the environment.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture()
def scripted_server():
    servers: list[ScriptedServer] = []

    def start(behaviour: Behaviour) -> ScriptedServer:
        server = ScriptedServer(behaviour).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__()
