"""The rendered book, as a reader's browser sees it (headless Chromium driven by Selenium).

Builds nothing: it checks the site `make docs` (python -m nlpbook.docs book) left in docs/_build/html.
Serves it on 127.0.0.1 (an ephemeral port) and checks: the index title, that every sidebar link
resolves, that the sidebar lists every chapter in notebook order, that Chapter 1 shows displaCy's
entity markup, that Sphinx's search works offline, and that no page loads a script or stylesheet
from the network. Screenshots go to docs/_build/screenshots/.
"""
import functools, http.server, re, threading, urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

from chromium import headless_chromium  # tests/chromium.py

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT/"docs"/"_build"/"html"
SHOTS = ROOT/"docs"/"_build"/"screenshots"
CH1 = "01_spacy_basics.ipynb"


def page_of(nb_name):
    "The page nbdev (and nlpbook.docs) makes of a notebook: numeric prefix dropped, `.html`"
    return re.sub(r"^\d+[a-zA-Z0-9]*_", "", nb_name.lower()).rsplit(".", 1)[0] + ".html"


def book_pages():
    "Pages of the numbered notebooks in nbs/, in notebook order (what the sidebar must list)"
    nbs = sorted(p.name for p in (ROOT/"nbs").glob("*.ipynb") if re.match(r"^\d+[a-zA-Z0-9]*_", p.name))
    return [page_of(n) for n in nbs]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args): pass


@pytest.fixture(scope="module")
def site():
    "Base URL of docs/_build/html served on 127.0.0.1"
    if not (SITE/"index.html").exists():
        pytest.fail(f"{SITE}/index.html is missing: build the docs first with `make docs` "
                    "(python -m nlpbook.docs book); this test builds nothing.")
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(SITE)))
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_port}/"
    srv.shutdown(); srv.server_close(); t.join(5)


@pytest.fixture(scope="module")
def browser():
    with headless_chromium(1280, 1000) as drv: yield drv


def screenshot(drv, name, element=None):
    "Save docs/_build/screenshots/NAME.png: the page from the top (up to 3000px), or the viewport around `element`"
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS/f"{name}.png"
    if element is None:
        drv.set_window_size(1280, max(1000, drv.execute_script("return Math.min(document.body.scrollHeight, 3000)")))
    else:  # 'instant': furo's CSS scrolls smoothly, and the shot would be taken mid-scroll
        drv.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
    try: assert drv.save_screenshot(str(path)), f"could not save {path}"
    finally: drv.set_window_size(1280, 1000)
    return path


def sidebar_links(drv):
    "hrefs of the internal links in furo's left sidebar (the chapter list)"
    from selenium.webdriver.common.by import By
    return [a.get_attribute("href") for a in drv.find_elements(By.CSS_SELECTOR, ".sidebar-tree a.reference.internal")]


def fetch(url):
    "(status, body) of an HTTP GET"
    try:
        with urllib.request.urlopen(url, timeout=10) as r: return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e: return e.code, ""


def test_index_title(site, browser):
    browser.get(site + "index.html")
    assert "nlpbook" in browser.title, f"index page title is {browser.title!r}"
    assert screenshot(browser, "index").stat().st_size > 10_000


def test_sidebar_links_resolve(site, browser):
    browser.get(site + "index.html")
    links = sidebar_links(browser)
    assert links, "the sidebar lists no pages: is the toctree in the processed index.ipynb?"
    for url in links:
        assert urlparse(url).netloc == urlparse(site).netloc, f"sidebar link leaves the site: {url}"
        status, body = fetch(url.split("#")[0])
        assert status == 200, f"sidebar link {url} -> HTTP {status}"
        assert "<title>" in body


def test_sidebar_lists_every_chapter_in_order(site, browser):
    browser.get(site + "index.html")
    pages = [urlparse(u).path.rsplit("/", 1)[-1] for u in sidebar_links(browser)]
    assert pages == book_pages(), f"sidebar {pages} != notebooks in nbs/ {book_pages()}"


def test_chapter1_shows_displacy(site, browser):
    from selenium.webdriver.common.by import By
    if not (ROOT/"nbs"/CH1).exists(): pytest.skip(f"nbs/{CH1} is not written yet")
    page = page_of(CH1)
    assert (SITE/page).exists(), f"{SITE/page} missing: nbs/{CH1} exists, so re-run `make docs`"
    browser.get(site + page)
    ents = browser.find_elements(By.CSS_SELECTOR, "mark.entity")
    svgs = browser.find_elements(By.CSS_SELECTOR, "svg.displacy")
    assert ents or svgs, f"{page} has no displaCy markup (mark.entity / svg.displacy): did the chapter render with jupyter=True?"
    first = (ents or svgs)[0]
    assert first.is_displayed() and first.size["width"] > 0, "displaCy markup is there but not visible"
    assert screenshot(browser, page.rsplit(".", 1)[0], first).stat().st_size > 10_000


def test_search_works_offline(site, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    browser.get(site + "index.html")
    title = browser.find_element(By.CSS_SELECTOR, ".sidebar-tree a.reference.internal").text
    word = max(re.findall(r"[A-Za-z]{4,}", title), key=len)  # a word of the first chapter's title
    browser.get(site + f"search.html?q={word}")
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results ul.search li"))
    hits = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "#search-results ul.search li a")]
    assert any(book_pages()[0] in h for h in hits), f"searching {word!r} did not find {book_pages()[0]}: {hits}"


class _Assets(HTMLParser):
    "Collects the URLs of scripts and stylesheets a page loads"
    def __init__(self):
        super().__init__(); self.urls = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("src"): self.urls.append(a["src"])
        if tag == "link" and "stylesheet" in (a.get("rel") or "") and a.get("href"): self.urls.append(a["href"])


def test_pages_load_nothing_from_the_network(site):
    for page in ["index.html", "search.html", *book_pages()]:
        status, body = fetch(site + page)
        assert status == 200, f"{page} -> HTTP {status}"
        p = _Assets(); p.feed(body)
        remote = [u for u in p.urls if urlparse(urljoin(site + page, u)).netloc != urlparse(site).netloc]
        assert not remote, f"{page} loads {remote} from the network: the book must work offline"
