"""The rendered book, as a reader's browser sees it (headless Chromium driven by Selenium).

Builds nothing: it checks the site `make docs` (python -m nlpbook.docs book) left in docs/_build/html.
Serves it on 127.0.0.1 (an ephemeral port) and checks: the index title, that every sidebar link
resolves, that the sidebar lists every chapter in notebook order, that Chapter 1 shows displaCy's
entity markup, that Sphinx's search works offline, and that no page loads a script or stylesheet
from the network. And, page by page, what a reader must not meet (issue 27): a stderr block, a table cell
cut with "...", an absolute path of the build machine, a Markdown table printed as text, an image that is
not in the built docs, a figure with nothing drawn; chapter titles without their chapter number; a chapter
that compares with the book without "The book's numbers and ours". The same checks run without a browser
on the processed pages (`nlpbook.docs.page_problems`). Screenshots go to docs/_build/screenshots/ (one
`page-NAME.png` per page, for review).
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


# --- What a reader must not meet, page by page (issue 27) ---------------------------------------------------------

def chapter_pages():
    "Pages of the chapter notebooks (01 to 89 and their lettered parts), in notebook order"
    return [page_of(p.name) for p in sorted((ROOT/"nbs").glob("*.ipynb")) if re.match(r"^(0[1-9]|[1-8]\d)[a-z]*_", p.name)]


def test_processed_pages_show_no_problems():
    "The fast check, on the processed notebooks the build rendered (docs/_nbs): `nlpbook.docs.page_problems`"
    from nlpbook.docs import page_problems
    pages = sorted((ROOT/"docs"/"_nbs").glob("*.ipynb"))
    if not pages: pytest.fail("docs/_nbs has no processed pages: build the docs first with `make docs`")
    bad = {p.stem: probs for p in pages if (probs := page_problems(p))}
    assert not bad, "pages show what a reader must not meet:\n" + "\n".join(f"{k}: {v}" for k, v in bad.items())


def test_api_cards_have_no_markdown_in_code():
    from nlpbook.docs import docstring_problems
    assert docstring_problems() == [], "docstrings with `*` outside backticks (their show_doc cards turn it into italics)"


_PAGE_CHECKS = r"""
const paths = arguments[0], out = {};
const cells = [...document.querySelectorAll('.cell_output')];
out.stderr = cells.filter(c => c.querySelector('.stderr')).map(c => c.innerText.trim().split('\n')[0].slice(0, 100));
out.cut = [...document.querySelectorAll('.cell_output td, .cell_output th')].map(t => t.innerText.trim())
  .filter(t => (t.length == 49 || t.length == 50) && t.endsWith('...')).slice(0, 3);   // pandas' default cut (max_colwidth 50)
const text = document.querySelector('article') ? document.querySelector('article').innerText : document.body.innerText;
out.paths = paths.filter(p => text.includes(p));
out.md_tables = [...document.querySelectorAll('.cell_output pre')].map(p => p.innerText)
  .filter(t => /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$/m.test(t)).length;
out.imgs = [...document.querySelectorAll('img')].filter(i => !(i.src.startsWith(location.origin) && i.complete && i.naturalWidth > 0))
  .map(i => i.getAttribute('src').slice(0, 100));
out.empty_figures = [...document.querySelectorAll('.cell_output img')].filter(i => i.complete && i.naturalWidth > 0).filter(i => {
  const c = document.createElement('canvas'); c.width = i.naturalWidth; c.height = i.naturalHeight;
  const g = c.getContext('2d'); g.drawImage(i, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data; let coloured = 0;
  for (let k = 0; k < d.length; k += 4) if (d[k+3] > 0 && Math.max(d[k], d[k+1], d[k+2]) - Math.min(d[k], d[k+1], d[k+2]) > 40) coloured++;
  return coloured < 20;   // matplotlib draws data in colour (C0..C9, colormaps); axes, ticks and text are grey
}).map(i => i.getAttribute('src').slice(0, 100));
return out;
"""


def test_every_page_as_a_reader_sees_it(site, browser):
    "Each page, rendered (screenshots in docs/_build/screenshots/page-*.png): no stderr block, cut table cell, build-machine path, raw `|---|` table, missing or remote image, empty figure"
    from selenium.webdriver.common.by import By
    from nlpbook.docs import machine_paths
    paths, problems = machine_paths(), {}
    for page in ["index.html", *book_pages()]:
        browser.get(site + page)
        wait_imgs = "return [...document.images].every(i => i.complete)"
        from chromium import wait_for
        wait_for(lambda: browser.execute_script(wait_imgs), 20, f"the images of {page} to load")
        found = {k: v for k, v in browser.execute_script(_PAGE_CHECKS, paths).items() if v}
        if found: problems[page] = found
        screenshot(browser, "page-" + page.rsplit(".", 1)[0])
    assert not problems, "pages show what a reader must not meet:\n" + "\n".join(f"{p}: {v}" for p, v in problems.items())


def test_chapter_titles_carry_chapter_numbers(site, browser):
    browser.get(site + "index.html")
    from selenium.webdriver.common.by import By
    titles = {urlparse(a.get_attribute("href")).path.rsplit("/", 1)[-1]: a.get_attribute("textContent").strip()
              for a in browser.find_elements(By.CSS_SELECTOR, ".sidebar-tree a.reference.internal")}
    chapters = chapter_pages()
    bad = {p: t for p, t in titles.items() if p in chapters and not re.match(r"Chapter \d+: ", t)}
    assert not bad, f"chapter pages whose sidebar title has no 'Chapter N: ': {bad}"


def test_chapters_that_compare_with_the_book_show_its_numbers(site):
    "A chapter that says what changed from the book also has its 'The book's numbers and ours' section"
    missing = []
    for page in chapter_pages():
        status, body = fetch(site + page)
        heads = [re.sub(r"<[^>]+>|¶", "", h).strip() for h in re.findall(r"<h2[^>]*>(.*?)</h2>", body, re.S)]
        if any("from the book" in h for h in heads) and not any(re.match(r"The book.s (numbers|cases),? and ours", h) for h in heads):
            missing.append(page)
    assert not missing, f"chapters with a 'What changed from the book' section but no 'The book's numbers and ours': {missing}"
