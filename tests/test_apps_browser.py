"""Chapter 10's four Streamlit apps (nlpbook.apps) as a reader uses them: a real server, headless Chromium.

Each test starts one app with `serve_app` (what `nlpbook app NAME` runs) on a free port of 127.0.0.1, uses it in the
browser (types into the text area and applies it with Ctrl+Enter, or picks an article in the sidebar), reads the
entities displaCy drew or the scores and prediction back from the page, and checks them against the same pipeline
run in this process. One screenshot per app goes to docs/_build/screenshots/app_<name>.png.
Fails (with the fix) when Debian's chromium / chromium-driver or streamlit are missing.
"""
import html, importlib.util, re
from pathlib import Path

import pytest

from chromium import headless_chromium, wait_for  # tests/chromium.py

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT/"docs"/"_build"/"screenshots"
TEXT = "Reuters - Intel Corp. (NASDAQ: INTC) said on Monday in Santa Clara that Paul Otellini would cut prices."


@pytest.fixture(scope="module")
def browser():
    from nlpbook.models import install_hint
    if importlib.util.find_spec("streamlit") is None: pytest.fail(f"streamlit is not installed: {install_hint('apps')}")
    with headless_chromium(1400, 1000) as drv: yield drv


@pytest.fixture(scope="module")
def models():
    "Chapter 3's pipelines (trained first if missing) and the base model, as the apps load them"
    from nlpbook.apps import base_ner, load_pipeline
    return dict(base=base_ner(), ner=load_pipeline(None, 'ner'), textcat=load_pipeline(None, 'textcat'))


def drawn_entities(drv) -> list[list[tuple[str, str]]]:
    "The (text, label) of each displaCy mark, per entity block on the page: [base, custom]"
    from selenium.webdriver.common.by import By
    blocks = [b for b in drv.find_elements(By.CSS_SELECTOR, "div.entities")]
    out = []
    for b in blocks:
        marks = b.find_elements(By.CSS_SELECTOR, "mark.entity")
        out.append([(m.get_attribute("textContent").rsplit(m.find_element(By.TAG_NAME, "span").get_attribute("textContent"), 1)[0].strip(),
                     m.find_element(By.TAG_NAME, "span").get_attribute("textContent").strip()) for m in marks])
    return out


def expected_entities(models, text):
    from nlpbook.apps import BASE_LABELS
    from nlpbook.custom_ner import NER_LABELS
    ents = lambda nlp, labels: [(re.sub(r"\s+", " ", e.text), e.label_) for e in nlp(text).ents if e.label_ in labels]
    return [ents(models['base'], BASE_LABELS), ents(models['ner'], NER_LABELS)]


def metrics(drv) -> dict[str, str]:
    "The page's st.metric values by label"
    from selenium.webdriver.common.by import By
    return {m.find_element(By.CSS_SELECTOR, '[data-testid="stMetricLabel"]').text:
            m.find_element(By.CSS_SELECTOR, '[data-testid="stMetricValue"]').text
            for m in drv.find_elements(By.CSS_SELECTOR, '[data-testid="stMetric"]')}


def type_text(drv, text):
    "Type `text` into the page's text area and apply it (Ctrl+Enter), as a reader does"
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    area = wait_for(lambda: drv.find_element(By.TAG_NAME, "textarea"), 60, "the text area")
    area.click(); area.send_keys(text); area.send_keys(Keys.CONTROL, Keys.ENTER)


def chart_drawn(drv) -> bool:
    "Has the page's bar chart (Vega-Lite) finished drawing?"
    from selenium.webdriver.common.by import By
    return bool(drv.find_elements(By.CSS_SELECTOR, '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg'))


def screenshot(drv, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS/f"app_{name}.png"
    assert drv.save_screenshot(str(path)), f"could not save {path}"
    return path


def set_article(drv, number):
    "Type an article number into the sidebar's number input and apply it"
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    box = wait_for(lambda: drv.find_element(By.CSS_SELECTOR, 'section[data-testid="stSidebar"] input[type="number"]'), 60, "the article number")
    box.send_keys(Keys.CONTROL, "a"); box.send_keys(str(number)); box.send_keys(Keys.ENTER)


def test_ner_custom(browser, models):
    from nlpbook.apps import serve_app
    with serve_app('ner-custom') as server:
        browser.get(server.url)
        type_text(browser, TEXT)
        want = expected_entities(models, TEXT)
        wait_for(lambda: drawn_entities(browser) == want, 90, f"the entities {want}")
        assert ('INTC', 'TICKER') in want[1]
        assert screenshot(browser, "ner_custom").stat().st_size > 10_000


def test_ner_agnews(browser, models):
    from nlpbook.apps import ag_news_articles, pick_article, serve_app
    row = pick_article(ag_news_articles(), 'World', 3)
    with serve_app('ner-agnews') as server:
        browser.get(server.url)
        wait_for(lambda: len(drawn_entities(browser)) == 2, 90, "two entity blocks")
        set_article(browser, 3)
        want = expected_entities(models, row.description)
        wait_for(lambda: drawn_entities(browser) == want, 60, f"the entities of World article 3: {want}")
        assert html.unescape(row.title) in browser.page_source or row.title in browser.find_element("tag name", "body").text
        assert screenshot(browser, "ner_agnews").stat().st_size > 10_000


def test_textcat_agnews(browser, models):
    from nlpbook.apps import ag_news_articles, category_scores, pick_article, prediction, serve_app
    row = pick_article(ag_news_articles(), 'World', 1)
    label, confidence = prediction(category_scores(models['textcat'](f"{row.title} {row.description}")))
    with serve_app('textcat-agnews') as server:
        browser.get(server.url)
        want = {"Prediction": label, "Confidence": f"{confidence:.4f}", "True label": "World"}
        wait_for(lambda: metrics(browser) == want, 90, f"the metrics {want}")
        wait_for(lambda: chart_drawn(browser), 30, "the bar chart")
        assert screenshot(browser, "textcat_agnews").stat().st_size > 10_000


def test_textcat_custom(browser, models):
    from nlpbook.apps import category_scores, prediction, serve_app
    text = "Elon Musk said Tesla would build a new factory in Texas, and its shares rose as investors bet on higher sales."
    label, confidence = prediction(category_scores(models['textcat'](text)))
    with serve_app('textcat-custom') as server:
        browser.get(server.url)
        type_text(browser, text)
        want = {"Prediction": label, "Confidence": f"{confidence:.4f}"}
        wait_for(lambda: metrics(browser) == want, 90, f"the metrics {want}")
        wait_for(lambda: chart_drawn(browser), 30, "the bar chart")
        assert screenshot(browser, "textcat_custom").stat().st_size > 10_000
