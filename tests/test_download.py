"""`nlpbook.data.download` and `load_dataset_file` against a real HTTP server on 127.0.0.1.

Each case is something a real mirror or CDN does: serve the right bytes, serve other bytes,
cut the body short, 404, or drop the connection mid-transfer. In every failure the caller gets one
`DatasetError` naming the URL, and nothing is left in the destination folder.
"""
import hashlib, socket, struct, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import nlpbook.data as data
from nlpbook.data import DatasetError, download, load_dataset_file

BODY = b"".join(b"line %d of a real dataset file\n" % i for i in range(5000))  # ~150 kB, several chunks
SHA = hashlib.sha256(BODY).hexdigest()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a): pass

    def _head(self, length):
        self.send_response(200)
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/good.txt":
            self._head(len(BODY)); self.wfile.write(BODY)
        elif path == "/other.txt":  # right length, wrong bytes
            other = BODY.replace(b"line 7 ", b"LINE 7 ")
            self._head(len(other)); self.wfile.write(other)
        elif path == "/short.txt":  # a truncated file served honestly (header matches the short body)
            self._head(len(BODY) // 2); self.wfile.write(BODY[: len(BODY) // 2])
        elif path == "/cut.txt":  # promises the whole file, sends half, closes
            self._head(len(BODY)); self.wfile.write(BODY[: len(BODY) // 2]); self.wfile.flush()
            self.close_connection = True
        elif path == "/reset.txt":  # sends a little, then resets the TCP connection (RST)
            self._head(len(BODY)); self.wfile.write(BODY[:4096]); self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        else:
            self.send_error(404, "Not Found")


@pytest.fixture(scope="module")
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown(); srv.server_close()


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_good_file(server, tmp_path):
    p = download(f"{server}/good.txt", tmp_path / "f.txt", sha256=SHA, size=len(BODY), progress=False)
    assert p.read_bytes() == BODY
    assert leftovers(tmp_path) == ["f.txt"]


def test_wrong_hash(server, tmp_path):
    with pytest.raises(DatasetError, match="sha256 mismatch") as e:
        download(f"{server}/other.txt", tmp_path / "f.txt", sha256=SHA, size=len(BODY), progress=False)
    assert "other.txt" in str(e.value) and SHA in str(e.value)
    assert leftovers(tmp_path) == []


def test_truncated_body(server, tmp_path):
    with pytest.raises(DatasetError, match="truncated") as e:
        download(f"{server}/short.txt", tmp_path / "f.txt", sha256=SHA, size=len(BODY), progress=False)
    assert f"{len(BODY):,}" in str(e.value)
    assert leftovers(tmp_path) == []


def test_truncated_without_known_size_is_caught_by_hash(server, tmp_path):
    with pytest.raises(DatasetError, match="sha256 mismatch"):
        download(f"{server}/short.txt", tmp_path / "f.txt", sha256=SHA, progress=False)
    assert leftovers(tmp_path) == []


def test_404(server, tmp_path):
    with pytest.raises(DatasetError, match="HTTP 404"):
        download(f"{server}/missing.txt", tmp_path / "f.txt", sha256=SHA, progress=False)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("path", ["cut.txt", "reset.txt"])
def test_interrupted_transfer(server, tmp_path, path):
    with pytest.raises(DatasetError, match="interrupted") as e:
        download(f"{server}/{path}", tmp_path / "f.txt", sha256=SHA, size=len(BODY), progress=False)
    assert path in str(e.value)
    assert leftovers(tmp_path) == []


def test_unreachable(tmp_path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
    with pytest.raises(DatasetError, match="unreachable"):
        download(f"http://127.0.0.1:{port}/x", tmp_path / "f.txt", progress=False, timeout=5)


@pytest.fixture
def fake_registry(server, monkeypatch, tmp_path):
    "A registry whose files live on the local server; an empty cache; no mirror."
    reg = {"toy": {"title": "toy", "licence": "CC0", "citation": "-", "source": "-", "notes": "-", "files": {
        "good.txt": dict(url=f"{server}/good.txt", sha256=SHA, size=len(BODY), rows=5000),
        "cut.txt": dict(url=f"{server}/cut.txt", sha256=SHA, size=len(BODY), rows=5000)}}}
    monkeypatch.setattr(data, "registry", lambda: reg)
    monkeypatch.setenv("NLPBOOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("NLPBOOK_MIRROR", raising=False)
    return tmp_path / "cache" / "toy"


def test_load_dataset_file_downloads_then_uses_cache(fake_registry, server, monkeypatch):
    p = load_dataset_file("toy", "good.txt")
    assert p == fake_registry / "good.txt" and p.read_bytes() == BODY
    # Second call must not touch the network: make any download fail loudly.
    monkeypatch.setattr(data, "download", lambda *a, **k: pytest.fail("downloaded again despite a good cache"))
    assert load_dataset_file("toy", "good.txt") == p


def test_load_dataset_file_interrupted_leaves_cache_empty(fake_registry):
    with pytest.raises(DatasetError, match="interrupted"):
        load_dataset_file("toy", "cut.txt")
    assert leftovers(fake_registry) == []


def test_mirror_that_is_not_a_folder(fake_registry, monkeypatch, tmp_path):
    monkeypatch.setenv("NLPBOOK_MIRROR", str(tmp_path / "nope"))
    with pytest.raises(DatasetError, match="is not a folder"):
        load_dataset_file("toy", "good.txt")
