"""IMDb's CSVs rebuilt from the official archive's layout reproduce the registry's exact bytes.

With no mirror, `load_dataset_file('imdb', ...)` downloads aclImdb_v1.tar.gz and assembles the CSV.
We cannot download the real archive here, so we make one from the mirror's own reviews (one text
file per review, the archive's layout, plus the distractor folders it has) and check that
assembling it gives the file whose sha256 the registry records, end to end over HTTP.
"""
import csv, hashlib, io, tarfile, threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

import nlpbook.data as data
from nlpbook.data import DatasetError, file_hash, file_info, imdb_csv_from_tar, load_dataset_file


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    "aclImdb_v1.tar.gz's layout, holding the 25,000 test reviews and a few train/unsup distractors."
    src = load_dataset_file("imdb", "test.csv")  # from the cache or $NLPBOOK_MIRROR
    d = tmp_path_factory.mktemp("imdb")
    tar_path = d / "aclImdb_v1.tar.gz"
    with open(src, newline="", encoding="utf-8") as f, tarfile.open(tar_path, "w:gz", compresslevel=1) as tar:
        def add(name, text):
            b = text.encode("utf-8"); ti = tarfile.TarInfo(name); ti.size = len(b)
            tar.addfile(ti, io.BytesIO(b))
        rows = list(csv.DictReader(f))
        for r in reversed(rows):  # archive order is not the CSV's order: the builder must sort
            add(f"aclImdb/{r['file']}", r["text"])
        add("aclImdb/README", "readme"); add("aclImdb/imdb.vocab", "the\n")
        add("aclImdb/train/neg/0_3.txt", "a train review"); add("aclImdb/train/unsup/0_0.txt", "unlabelled")
        add("aclImdb/test/urls_pos.txt", "http://example.invalid\n")
    return tar_path


def test_rebuilt_test_split_matches_registry(archive, tmp_path):
    out = imdb_csv_from_tar(archive, "test", tmp_path / "test.csv")
    assert file_hash(out) == file_info("imdb", "test.csv")["sha256"]


@pytest.fixture
def served(archive, monkeypatch, tmp_path):
    "The archive on a local HTTP server, the registry pointing at it, an empty cache and no mirror."
    srv = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(archive.parent)))
    srv.RequestHandlerClass.log_message = lambda *a: None
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    reg = data.registry()
    for f in reg["imdb"]["files"].values():
        if "archive" in f:
            f["archive"] = dict(f["archive"], url=f"http://127.0.0.1:{srv.server_address[1]}/{archive.name}",
                                md5=file_hash(archive, "md5"))
    monkeypatch.setattr(data, "registry", lambda: reg)
    monkeypatch.setenv("NLPBOOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("NLPBOOK_MIRROR", raising=False)
    yield tmp_path / "cache" / "imdb"
    srv.shutdown(); srv.server_close()


def test_load_dataset_file_builds_from_archive(served):
    p = load_dataset_file("imdb", "test.csv")
    assert p == served / "test.csv" and file_hash(p) == file_info("imdb", "test.csv")["sha256"]
    assert sorted(x.name for x in served.iterdir()) == ["aclImdb_v1.tar.gz", "test.csv"]


def test_archive_that_builds_other_bytes_is_refused(served):
    # Our archive only holds four train reviews, so the rebuilt train.csv cannot match the registry.
    with pytest.raises(DatasetError, match="rebuilt from aclImdb_v1.tar.gz: sha256 mismatch"):
        load_dataset_file("imdb", "train.csv")
    assert "train.csv" not in [x.name for x in served.iterdir()]
