"""Load test: the three user kinds against the production stack (deploy/load/run.sh runs it).

    LOAD_USERS=/tmp/load-users.json LOAD_PASSWORD=bench-ppgdid-2026 \\
        locust -f deploy/load/locustfile.py --host http://127.0.0.1:8017 --headless -u 20 -r 2 -t 3m

Every simulated user signs in with its own account (Django's password login, as a browser does) and
works on its own items, listed by `manage.py prepare_load` in LOAD_USERS:
- social workers read their inbox, the case list and a case, then fill its diagnostic through the
  form: a draft, then the completed diagnostic (which moves the case to the committee);
- commission members read the planned session and an item's synthesis sheet, then vote on it;
- landlord agents read their inbox and a case, then record a proposal through the step's form.

Forms are read from the served page (every field as the browser would post it, the CSRF token) and
only the fields a user types are filled in. A save that comes back with the form (a validation error)
or anywhere but where a successful save leads counts as a failure.

The stack runs with production settings: secure cookies, HTTPS assumed behind a proxy. On loopback
there is no TLS proxy, so this client plays its part: it sends `X-Forwarded-Proto: https` (trusted from
127.0.0.1 only, deploy/gunicorn.conf.py, SECURE_PROXY_SSL_HEADER) and the matching Origin, and lets
its cookie jar return secure cookies over the loopback connection. Nothing is relaxed on the server.
"""

import http.cookiejar
import itertools
import json
import os
import random
import re
import threading
from datetime import date, timedelta
from html.parser import HTMLParser
from urllib.parse import urlparse

from locust import HttpUser, between, events, task

with open(os.environ["LOAD_USERS"]) as _file:
    WORK = json.load(_file)
PASSWORD = os.environ.get("LOAD_PASSWORD", "bench-ppgdid-2026")
_counters = {kind: itertools.count() for kind in WORK}
_lock = threading.Lock()


def next_account(kind: str) -> dict:
    with _lock:
        entries = WORK[kind]
        return entries[next(_counters[kind]) % len(entries)]


def _return_secure_cookies(policy, cookie, request):
    """Secure cookies go back over the loopback connection (the TLS proxy's side of it)."""
    return True


# requests copies the session's cookies into a fresh jar per request (default policy): so the policy's
# class is patched, in this client process only.
http.cookiejar.DefaultCookiePolicy.return_ok_secure = _return_secure_cookies


class FormParser(HTMLParser):
    """Every form of a page: action, method and the values a browser would post as it stands."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self._form = None
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action", ""), "method": a.get("method", "get").lower(), "fields": []}
            self._form["radios"] = {}
            self._form["selects"] = {}
            self.forms.append(self._form)
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind == "radio":
                self._form["radios"].setdefault(name, []).append(a.get("value", "on"))
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._form["fields"].append((name, a.get("value", "on" if kind in ("checkbox", "radio") else "")))
        elif tag == "select" and name:
            self._select = {"name": name, "options": [], "selected": [], "multiple": "multiple" in a}
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._select["options"].append(value)
            if "selected" in a:
                self._select["selected"].append(value)
        elif tag == "textarea" and name:
            self._textarea = [name, ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None and self._form is not None:
            s = self._select
            chosen = s["selected"] or ([] if s["multiple"] or not s["options"] else s["options"][:1])
            self._form["fields"] += [(s["name"], v) for v in chosen]
            self._form["selects"][s["name"]] = s["options"]
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form["fields"].append((self._textarea[0], self._textarea[1].lstrip("\n")))
            self._textarea = None
        elif tag == "form":
            self._form = None


def post_form(html: str, has_field: str) -> dict:
    """The first POST form of the page holding `has_field`."""
    parser = FormParser()
    parser.feed(html)
    for form in parser.forms:
        names = {n for n, _v in form["fields"]} | set(form["radios"]) | set(form["selects"])
        if form["method"] == "post" and has_field in names:
            return form
    raise LookupError(f"no form with {has_field!r}")


def fill(form: dict, values: dict) -> list:
    """The form's fields as the browser would post them, with `values` typed over them."""
    data = [(n, v) for n, v in form["fields"] if n not in values]
    for name, value in values.items():
        data += [(name, v) for v in value] if isinstance(value, list) else [(name, value)]
    return data


ERROR_MARK = re.compile(r'class="[^"]*(errorlist|fr-error-text|fr-alert--error)')


class ProductUser(HttpUser):
    abstract = True
    kind = ""
    wait_time = between(1, 3)  # a professional reads before the next click

    def on_start(self):
        host = urlparse(self.host)
        self.client.headers.update(
            {"X-Forwarded-Proto": "https", "Origin": f"https://{host.netloc}", "Referer": f"https://{host.netloc}/"}
        )
        self.account = next_account(self.kind)
        self.todo = list(self.account.get("cases") or [])
        response = self.client.get("/accounts/login/", name="login page")
        form = post_form(response.text, "username")
        with self.client.post(
            "/accounts/login/",
            data=fill(form, {"username": self.account["username"], "password": PASSWORD}),
            name="login",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302 or "/accounts/login" in response.headers.get("Location", ""):
                response.failure(f"login refused ({response.status_code})")
                raise RuntimeError(f"login refused for {self.account['username']}")

    def save(self, url, data, name, expect):
        """POST a form; success is a redirect to a URL containing `expect`."""
        with self.client.post(url, data=data, name=name, allow_redirects=False, catch_response=True) as response:
            location = response.headers.get("Location", "")
            if response.status_code != 302 or expect not in location:
                errors = ERROR_MARK.search(response.text or "")
                response.failure(f"{response.status_code} {'form errors' if errors else location or 'no redirect'}")
                return False
            return True


class SocialWorker(ProductUser):
    kind = "social"
    weight = 8

    @task(2)
    def read(self):
        self.client.get("/taches/", name="ts: inbox")
        self.client.get("/dossiers/", name="ts: case list")
        if self.account["cases"]:
            self.client.get(f"/dossiers/{random.choice(self.account['cases'])}/", name="ts: case page")

    @task(3)
    def diagnostic(self):
        if not self.todo:
            return self.read()
        pk = self.todo[0]
        self.client.get(f"/dossiers/{pk}/", name="ts: case page")
        url = f"/dossiers/{pk}/etapes/diagnostic/"
        page = self.client.get(url, name="ts: diagnostic form")
        form = post_form(page.text, "committee_synthesis")
        typed = {
            "family_situation": "Mère seule avec deux enfants, hébergée chez un tiers (test de charge).",
            "monthly_resources": "1180",
            "committee_synthesis": "Hébergement précaire, ressources stables : relogement en T3 prioritaire.",
        }
        if not self.save(url, fill(form, {**typed, "action": "draft"}), "ts: diagnostic draft (POST)", url):
            return
        page = self.client.get(url, name="ts: diagnostic form")
        form = post_form(page.text, "committee_synthesis")
        urgency = [v for v in form["selects"].get("urgency", []) if v]
        support = [v for v in form["selects"].get("support_needed", []) if v]
        final = {**typed, "urgency": urgency[-1], "support_needed": support[0], "action": "complete"}
        if self.save(url, fill(form, final), "ts: diagnostic complete (POST)", f"/dossiers/{pk}/"):
            self.todo.pop(0)


class CommissionMember(ProductUser):
    kind = "commission"
    weight = 6

    def on_start(self):
        super().on_start()
        self.items = itertools.cycle(self.account["items"])

    @task
    def read_and_vote(self):
        session = self.account["session"]
        self.client.get(f"/commissions/seances/{session}/", name="commission: session")
        item = next(self.items)
        url = f"/commissions/seances/{session}/dossiers/{item}/"
        page = self.client.get(url, name="commission: synthesis sheet")
        form = post_form(page.text, "choice")
        choice = random.choice(form["radios"]["choice"])
        self.save(f"{url}avis/", fill(form, {"choice": choice, "comment": ""}), "commission: vote (POST)", url)


class LandlordAgent(ProductUser):
    kind = "landlord"
    weight = 6

    @task(1)
    def read(self):
        self.client.get("/taches/", name="landlord: inbox")
        self.client.get(f"/dossiers/{random.choice(self.account['cases'])}/", name="landlord: case page")

    @task(2)
    def proposal(self):
        if not self.todo:
            return self.read()
        pk = self.todo[0]
        self.client.get(f"/dossiers/{pk}/", name="landlord: case page")
        url = f"/dossiers/{pk}/etapes/proposal/"
        page = self.client.get(url, name="landlord: proposal form")
        form = post_form(page.text, "dwelling")
        offered = [v for v in form["selects"].get("dwelling", []) if v]
        today = date.today()
        typed = {
            "dwelling": random.choice(offered),
            "estimated_apl": "180",
            "notified_on": today.isoformat(),
            "reply_deadline": (today + timedelta(days=10)).isoformat(),
            "dalo_notice_given_at": f"{today.isoformat()}T09:00",
            "fewer_candidates_reason": "",
            "match_override_reason": "Logement adapté selon l'échange avec le ménage (test de charge).",
        }
        if self.save(url, fill(form, typed), "landlord: proposal (POST)", f"/dossiers/{pk}/"):
            self.todo.pop(0)


@events.quitting.add_listener
def _summary(environment, **kwargs):
    """Non-zero exit status when a request failed (run.sh reports it)."""
    if environment.stats.total.num_failures:
        environment.process_exit_code = 1
