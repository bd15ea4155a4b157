"""A real OpenID Connect provider (django-oidc-provider) for the single sign-on tests.

A separate, minimal Django project run as its own process on loopback: its own settings, its own
SQLite database in a temporary folder, an RSA signing key, one confidential client and the people
given on the command line (JSON: [{"username", "password", "email", "email_verified"}]). It prints
`READY <port>` once it serves, then answers until killed.

    python tests/accounts/oidc_op/server.py <workdir> <client_id> <client_secret> <redirect_uri> <people.json>
"""

import io
import json
import sys
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import django
from django.conf import settings


def userinfo(claims, user):
    """The provider's answer: the e-mail (and whether it was verified) of the person who logged in."""
    claims["email"] = user.email
    claims["email_verified"] = not user.username.startswith("unverified")
    claims["given_name"] = user.first_name
    claims["family_name"] = user.last_name
    return claims


def login(request):
    """The provider's own login page (a plain form: this is the provider's side, not the product's)."""
    from django.contrib.auth import authenticate
    from django.contrib.auth import login as auth_login
    from django.http import HttpResponse, HttpResponseRedirect

    nxt = request.GET.get("next") or request.POST.get("next") or "/"
    if request.method == "POST":
        user = authenticate(request, username=request.POST.get("username"), password=request.POST.get("password"))
        if user is not None:
            auth_login(request, user)
            return HttpResponseRedirect(nxt)
        return HttpResponse("bad credentials", status=401)
    return HttpResponse(f"<form method=post><input name=username><input name=password><input name=next value='{nxt}'>")


def configure(workdir: Path):
    settings.configure(
        DEBUG=False,
        SECRET_KEY="oidc-test-provider",
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "oidc_provider",
        ],
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
        ],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(workdir / "provider.sqlite3")}},
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}],
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        LOGIN_URL="/login/",
        OIDC_USERINFO=f"{__name__}.userinfo",
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )


def _urls():
    from django.urls import include, path

    return [path("login/", login), path("", include("oidc_provider.urls", namespace="oidc_provider"))]


urlpatterns: list = []


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def main(workdir, client_id, client_secret, redirect_uri, people_json):
    workdir = Path(workdir)
    configure(workdir)
    django.setup()
    urlpatterns.extend(_urls())

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from oidc_provider.models import Client, ResponseType

    call_command("migrate", verbosity=0)
    call_command("creatersakey", stdout=io.StringIO())
    client = Client.objects.create(
        name="PPGDID",
        client_type="confidential",
        client_id=client_id,
        client_secret=client_secret,
        jwt_alg="RS256",
        require_consent=False,
        reuse_consent=True,
        _redirect_uris=redirect_uri,
        _scope="openid email profile",
    )
    client.response_types.add(ResponseType.objects.get(value="code"))
    for person in json.loads(people_json):
        get_user_model().objects.create_user(
            username=person["username"], password=person["password"], email=person["email"]
        )
    httpd = make_server("127.0.0.1", 0, get_wsgi_application(), server_class=_Server, handler_class=_Quiet)
    print(f"READY {httpd.server_port}", flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:6])
