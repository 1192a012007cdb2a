"""The annotation app (nlpbook.annotation) as an annotator uses it: a real Streamlit server, headless Chromium.

Starts the server with `annotate_command` on a free port of 127.0.0.1, answers with the keyboard shortcuts and the
mouse, checks the output JSONL after every answer, kills the server with SIGKILL, restarts it and checks that the page
resumes at the first unanswered task with nothing answered lost. Screenshots go to docs/_build/screenshots/.
Fails (with the fix) when Debian's chromium / chromium-driver or streamlit are missing.
"""
import importlib.util, json, os, signal, subprocess
from pathlib import Path

import pytest

from chromium import headless_chromium, wait_for  # tests/chromium.py
from nlpbook.services import answers, free_port

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT/"docs"/"_build"/"screenshots"
TEXTS = ["Dell (DELL.O) beat forecasts.", "Apple and IBM fell on Nasdaq.", "Rain in Spain.", "Oracle hired Larry."]


def serve(src, out, labels, mode, log):
    "Start the app's server (its own process group) and wait until it answers its health check: (process, url)"
    from nlpbook.annotation import annotate_command
    port = free_port()
    cmd = annotate_command(src, out, labels, mode, port=port)
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    def healthy():
        if proc.poll() is not None: pytest.fail(f"the server exited with {proc.returncode}: see {log.name}")
        return answers(url + "/_stcore/health")
    wait_for(healthy, 30, f"{url}/_stcore/health")
    return proc, url


def kill9(proc):
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


@pytest.fixture(scope="module")
def browser():
    from nlpbook.models import install_hint
    if importlib.util.find_spec("streamlit") is None: pytest.fail(f"streamlit is not installed: {install_hint('apps')}")
    with headless_chromium(1000, 720) as drv: yield drv


@pytest.fixture
def workdir(tmp_path):
    src = tmp_path/"source.jsonl"
    src.write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS))
    return tmp_path, src


def lines(p):
    return [json.loads(l) for l in Path(p).read_text().splitlines()] if Path(p).exists() else []


def shown(drv):
    "Text of the task on the page"
    from selenium.webdriver.common.by import By
    return drv.find_element(By.CSS_SELECTOR, "div.nlpbook-task").text


def press(drv, key):
    "Press `key` on the page (not in a field): what Streamlit's button shortcuts listen to"
    from selenium.webdriver.common.action_chains import ActionChains
    ActionChains(drv).send_keys(key).perform()


def click_button(drv, text):
    "Click the button whose label (its first line; the second shows the shortcut) is `text`"
    from selenium.webdriver.common.by import By
    def click():
        b = [b for b in drv.find_elements(By.TAG_NAME, "button") if b.text.split("\n")[0] == text]
        if b: b[0].click(); return True
    wait_for(click, 10, f"a button {text!r}")


def screenshot(drv, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS/f"{name}.png"
    assert drv.save_screenshot(str(path)), f"could not save {path}"
    return path


def test_ner_answers_survive_kill9_and_resume(browser, workdir):
    from selenium.webdriver.common.keys import Keys
    tmp, src = workdir
    out = tmp/"answers.jsonl"
    with open(tmp/"server.log", "wb") as log:
        proc, url = serve(src, out, ["ORG", "TICKER"], "ner", log)
        try:
            browser.get(url)
            wait_for(lambda: shown(browser) == TEXTS[0], 30, "task 1 on the page")
            click_button(browser, "DELL.O"); click_button(browser, "TICKER")       # mouse: token, then label
            wait_for(lambda: "TICKER" in shown(browser), 10, "the TICKER highlight")
            press(browser, "a")                                                     # keyboard: accept
            wait_for(lambda: len(lines(out)) == 1, 10, "answer 1 in the file")
            test_spans = [(TEXTS[0][s["start"]:s["end"]], s["label"]) for s in lines(out)[0]["spans"]]
            assert (lines(out)[0]["answer"], test_spans) == ("accept", [("DELL.O", "TICKER")])
            wait_for(lambda: shown(browser) == TEXTS[1], 10, "task 2 on the page")
            click_button(browser, "IBM"); press(browser, "1")                       # label 1 (ORG) by key
            wait_for(lambda: "ORG" in shown(browser), 10, "the ORG highlight")
            assert screenshot(browser, "annotate_ner").stat().st_size > 10_000
            press(browser, "x")                                                     # reject
            wait_for(lambda: len(lines(out)) == 2, 10, "answer 2 in the file")
            assert [l["answer"] for l in lines(out)] == ["accept", "reject"]
            wait_for(lambda: shown(browser) == TEXTS[2], 10, "task 3 on the page")
        finally:
            kill9(proc)
        assert [l["text"] for l in lines(out)] == TEXTS[:2]                          # nothing answered is lost

        proc, url = serve(src, out, ["ORG", "TICKER"], "ner", log)                   # restart
        try:
            browser.get(url)
            wait_for(lambda: shown(browser) == TEXTS[2], 30, "the first unanswered task (3) after the restart")
            assert "2 of 4 answered" in browser.page_source
            press(browser, Keys.SPACE)                                              # skip
            wait_for(lambda: len(lines(out)) == 3, 10, "answer 3 in the file")
            assert [l["answer"] for l in lines(out)] == ["accept", "reject", "ignore"]
            wait_for(lambda: shown(browser) == TEXTS[3], 10, "task 4 on the page")
        finally:
            kill9(proc)


def test_textcat_label_keys(browser, workdir):
    tmp, src = workdir
    out = tmp/"textcat.jsonl"
    labels = ["Business", "Sci_Tech", "Sports", "World"]
    with open(tmp/"server.log", "wb") as log:
        proc, url = serve(src, out, labels, "textcat", log)
        try:
            browser.get(url)
            wait_for(lambda: shown(browser) == TEXTS[0], 30, "task 1 on the page")
            assert screenshot(browser, "annotate_textcat").stat().st_size > 10_000
            press(browser, "1")                                                     # Business
            wait_for(lambda: len(lines(out)) == 1, 10, "answer 1 in the file")
            wait_for(lambda: shown(browser) == TEXTS[1], 10, "task 2 on the page")
            click_button(browser, "Sci_Tech")                                       # mouse
            wait_for(lambda: len(lines(out)) == 2, 10, "answer 2 in the file")
            assert [(l["answer"], l["accept"]) for l in lines(out)] == [("accept", ["Business"]), ("accept", ["Sci_Tech"])]
        finally:
            kill9(proc)
