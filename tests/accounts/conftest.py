"""A real OpenID Connect provider (django-oidc-provider, tests/accounts/oidc_op/server.py) in its own
process on loopback, and the product's settings pointed at it."""

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

HERE = Path(__file__).resolve().parent
CLIENT_ID, CLIENT_SECRET = "ppgdid-test", "secret-de-test-0123456789"
CALLBACK = "http://testserver/oidc/callback/"
PEOPLE = [
    {"username": "camille", "password": "pw-camille", "email": "Camille.Agent@Example.org"},
    {"username": "inconnu", "password": "pw-inconnu", "email": "personne@example.org"},
    {"username": "unverified", "password": "pw-unverified", "email": "non.verifie@example.org"},
    {"username": "double", "password": "pw-double", "email": "double@example.org"},
    {"username": "ancien", "password": "pw-ancien", "email": "ancien@example.org"},
    {"username": "encadrante", "password": "pw-encadrante", "email": "encadrante@example.org"},
]


@pytest.fixture(scope="session")
def oidc_provider():
    workdir = Path(tempfile.mkdtemp(prefix="ppgdid-oidc-op-"))
    errors = open(workdir / "stderr.log", "w")  # noqa: SIM115 (closed at teardown)
    proc = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "oidc_op" / "server.py"),
            str(workdir),
            CLIENT_ID,
            CLIENT_SECRET,
            CALLBACK,
            json.dumps(PEOPLE),
        ],
        stdout=subprocess.PIPE,
        stderr=errors,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    line = proc.stdout.readline()
    try:
        if not line.startswith("READY"):
            proc.wait(timeout=5)
            raise RuntimeError(
                f"the OIDC provider did not start: {line} {(workdir / 'stderr.log').read_text()[-3000:]}"
            )
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        errors.close()


@pytest.fixture
def sso(oidc_provider, settings):
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{oidc_provider}/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{oidc_provider}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{oidc_provider}/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{oidc_provider}/jwks"
    settings.OIDC_RP_SCOPES = "openid email profile"
    return SSO(oidc_provider)


class SSO:
    def __init__(self, base):
        self.base = base

    def login(self, client, username: str, password: str):
        """The whole code flow: the product sends the browser to the provider, the person signs in
        there, the provider sends the browser back with a code, the product exchanges it (real HTTP
        from the product to the provider: token, JWKS, userinfo). Returns the product's last answer."""
        start = client.get("/oidc/authenticate/")
        assert start.status_code == 302, start
        authorize = start["Location"]
        assert authorize.startswith(f"{self.base}/authorize"), authorize
        browser = requests.Session()
        signed_in = browser.post(
            f"{self.base}/login/",
            data={"username": username, "password": password, "next": authorize[len(self.base) :]},
            allow_redirects=False,
            timeout=10,
        )
        assert signed_in.status_code == 302, signed_in.text[:500]
        back = browser.get(authorize, allow_redirects=False, timeout=10)
        assert back.status_code == 302, back.text[:500]
        location = urlsplit(back.headers["Location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
        assert "code" in parse_qs(location.query), location.query
        return client.get(f"{location.path}?{location.query}")
